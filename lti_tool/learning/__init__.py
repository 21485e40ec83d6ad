"""The learning chain inside the app: catalogs per tenant, LRS connections, learner state
and evidence in the database, and the use cases that run the engine (`recommender`)."""
