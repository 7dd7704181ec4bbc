"""The audit trail's hash chain, the request id its events carry, and outbound events
(webhooks) with their network guard."""
