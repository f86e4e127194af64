"""The list endpoint: the small web application readers use to join, choose topics and leave.

    app.py           `create_app(config)`: the Flask application, its headers and error pages
    context.py       what a request sees: the settings, the database (per request), the pages
    routes.py        the one blueprint: subscribe, confirm, preferences, unsubscribe (and one-click)
    forms.py         reading the forms: addresses, topics, CSRF tokens, the client's hashed IP
    confirmation.py  the confirmation email: rendered from the theme, sent over SMTP

Run by `publisher listen` under waitress, or by any WSGI server through the factory:
`waitress-serve --call publisher.mailing.endpoint:create_app`. It shares the subscriber database
with `publisher send` and reads the topics a build wrote (`out/send/topics.json`).
"""

from .app import create_app

__all__ = ["create_app"]
