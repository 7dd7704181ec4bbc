"""factory_boy factories for the app's models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from migrations_ui.models import Membership, Role, Target, Tenant


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"t_{n:03d}")
    name = factory.LazyAttribute(lambda t: f"Tenant {t.slug}")


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    tenant = factory.SubFactory(TenantFactory)
    environment = "dev"
    connection_alias = "dev"
    schema_name = "public"
    is_default = True


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.VIEWER
