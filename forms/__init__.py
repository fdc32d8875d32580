"""Forms and survey items as data: form files, their versions, validation and surveys.

A form is JSON Schema 2020-12 plus UI hints (``NAME.form.json``, see README.md); survey items
are rows bound to form types. Importing this package registers the tables on
``engine.models.Base`` so one metadata (and one migration history) holds everything.
"""

from . import models as models  # noqa: F401  (registers the tables)
