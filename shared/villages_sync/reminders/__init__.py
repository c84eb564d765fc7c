"""Reminders that follow their event (issue 23, part 2): pure logic.

- ``change_notice``: the change feed's Event Moved / Cancelled / Removed, read from the bus.
- ``plan``: when a reminder rings, what it says, the Reminders API body, what a change does to it.
- ``records``: who has a reminder for which event (an item of the reminders table).
- ``delivery``: what to do with each answer of the Alexa APIs (retry, refresh, drop, fail).
- ``follow``: one change, followed to every reminder of its event (adapters passed in).
"""
