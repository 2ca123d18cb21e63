"""Events of the payments app that other apps listen to.

`payroll_filed(sender=Payroll, payroll=…, actor=…)`: a payroll's bank files were made and it is now
filed; sent inside the filing's transaction (a receiver that does more work should wait for the
commit, as the switching app does). Lines the pre-flight held back are final from here on: they were
not sent to the bank.
"""

from __future__ import annotations

from django.dispatch import Signal

payroll_filed = Signal()
