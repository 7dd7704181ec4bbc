-- Engine bugs, not the blueprint's: the blueprint declares these constraints exactly as the
-- author did (unnamed), but the engine names them differently from PostgreSQL.
SET LOCAL search_path TO public;
-- A column CHECK that reads two columns: PostgreSQL names it <table>_check (it only uses the
-- column name when the expression references exactly one column); names.py always says
-- <table>_<column>_check.
ALTER TABLE public.notification_delivery_schedules RENAME CONSTRAINT notification_delivery_schedules_check TO notification_delivery_schedules_expires_at_check;
-- Generated names longer than 63 bytes: PostgreSQL shortens the longer of the table and column
-- parts until <table>_<columns>_<label> fits; fit_identifier cuts the end and adds a hash.
ALTER TABLE public.notification_delivery_schedules RENAME CONSTRAINT notification_delivery_schedul_notification_subscription_pr_fkey TO notification_delivery_schedules_notification_subscript_b9152a94;
ALTER TABLE public.notification_subscription_preferences RENAME CONSTRAINT notification_subscription_prefere_notification_template_id_fkey TO notification_subscription_preferences_notification_tem_7c0bc162;
-- The column CHECK reading two columns again (quiet_hours_end <> quiet_hours_start).
ALTER TABLE public.notification_subscription_preferences RENAME CONSTRAINT notification_subscription_preferences_check TO notification_subscription_preferences_quiet_hours_end_check;
-- The long-name truncation again, for a two-column unique set.
ALTER TABLE public.notification_subscription_preferences RENAME CONSTRAINT notification_subscription_pre_user_id_notification_template_key TO notification_subscription_preferences_user_id_notifica_e0683193;
