"""The organisation's Learning Record Store as Skillpath reaches it: where each tenant's LRS
is, one client per LRS, a learner's evidence at launch, how learners are named there, and the
outbox deliverer of Skillpath's own statements. The xAPI itself is `xapi/`'s."""
