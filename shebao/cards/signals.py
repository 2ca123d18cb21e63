"""Signals other apps listen to, so that the cards app never imports them.

`social_function_enabled` is sent by the one place that records a social-insurance activation
(`services._activate_social`), whatever the channel, inside the activation's transaction and only when
the function was actually enabled (a second request for an enabled card sends nothing). A receiver's
writes therefore commit or roll back with the activation; a receiver that must not fail the activation
defers its work with `transaction.on_commit`.

Arguments: `card` (the locked card, already enabled), `actor`, `at` (the activation time), `channel`.
"""

from django.dispatch import Signal

social_function_enabled = Signal()
