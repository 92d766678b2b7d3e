"""Who may call the product, and as what: roles, API keys, sessions, Firebase ID tokens, invitations.

* :mod:`~tower.identity.roles`: the five roles and the :class:`~tower.identity.roles.Principal` every
  authenticated request resolves to, and what each role may do.
* :mod:`~tower.identity.keys`: API keys (hashed), their roles, listing, rotation, revocation, last use.
* :mod:`~tower.identity.sessions`: server-side sessions behind an HttpOnly cookie, their CSRF token,
  and :func:`~tower.identity.sessions.start_session` for code that has just authenticated someone.
* :mod:`~tower.identity.firebase`: Firebase Auth / Identity Platform ID tokens (RS256 against Google's
  certificates, or the official Auth emulator on the embedded default).
* :mod:`~tower.identity.invitations`: one-time e-mailed links that give a Firebase user an agency role.

Nothing here knows Flask's request routing: the API (:mod:`tower.api.auth`, :mod:`tower.api.session`)
turns :class:`~tower.identity.roles.IdentityError` into its JSON errors.
"""
