"""Model objects loaded from the database without `Model.__init__`.

The engine loads four objects a delivery (the delivery, its enrollment, customer and job)
for every batch, and Django's `from_db` runs `__init__`: two signals sent and one `setattr`
per column, a third of the decide step's CPU. `FastLoad.from_db` (Django's documented hook
for loading) makes the same object directly: the loaded columns in its `__dict__`, the rest
deferred as before (read on first use), `_state` as Django sets it. Only for models with no
`__init__` of their own and no `pre_init`/`post_init` receivers, whose fields keep their
values in `__dict__` (tests/test_loading.py checks the models that use it).
"""

from django.db.models.base import ModelState


class FastLoad:
    @classmethod
    def from_db(cls, db, field_names, values):
        made = cls.__new__(cls)
        made.__dict__.update(zip(field_names, values, strict=True))
        made._state = state = ModelState()
        state.adding, state.db = False, db
        return made
