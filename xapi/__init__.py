"""Skillpath's xAPI side: the LRS client, reading evidence, building statements, the profile.

Modules: `client` (HTTP to the LRS), `errors` (the exception tree), `identity` (actors and
learner keys), `reader` (statements to `recommender.Observation`), `sync` (incremental sync and
learner refresh, with `CursorStore` and `PagingStrategy` ports), `statements` and `validation`
(what Skillpath sends), `vocabulary` and `profile` (Skillpath's xAPI profile).

May import `recommender`, `requests` and `tincan`; never flask, sqlalchemy or `lti_tool`.
Nothing is imported here, so that `import xapi.reader` stays free of HTTP.
"""
