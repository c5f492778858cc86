"""The user's words for a Graph client error (``graph.errors``): below the models and the synchronization, which
both report them."""


def graph_error_message(env, error):
    """The message of ``error`` in the language of ``env``: its template (kept in the .pot by the ``_`` marker of
    ``graph.errors``) translated as Odoo's ``_`` translates the add-on's code, filled with its parameters."""
    template = env["ir.translation"]._get_source(None, ("code", "sql_constraint"), env.lang, error.template)
    return template % error.params
