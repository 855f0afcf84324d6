"""A case's life: its statuses, the steps between them, and who on a rung takes it.

Every change of a case's status, level, unit or clocks goes through `cases.lifecycle`: one
guarded update, its event and the next deadline, in the caller's transaction.
"""
