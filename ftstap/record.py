"""Small record decorators: `dataclass` (frozen, for AST nodes and other
values) and `mutable` (fields that change after construction).

The standard dataclasses module costs ~12 ms to import (it pulls in
`inspect`) and generates and exec()s code for every class (~0.5-1.5 ms
each); the AST alone has ~40 classes and ftstap's startup budget is 150 ms.
These records share one generic implementation.  Fields named in `_ignore`
(default: `loc`) take no part in equality.  A mutable record's list, dict
or set default is copied for each instance, as a default_factory would."""
from __future__ import annotations

_MISSING = object()


def _init(self, *args, **kw):
    cls = type(self)
    fields = cls._fields
    if len(args) > len(fields):
        raise TypeError(f"{cls.__name__} takes {len(fields)} fields")
    values = dict(zip(fields, args))
    for k, v in kw.items():
        if k not in cls._defaults and k not in fields:
            raise TypeError(f"{cls.__name__} has no field {k!r}")
        values[k] = v
    d = self.__dict__
    for f in fields:
        if f in values:
            d[f] = values[f]
        else:
            default = cls._defaults.get(f, _MISSING)
            if default is _MISSING:
                raise TypeError(f"{cls.__name__} needs field {f!r}")
            d[f] = default.copy() if isinstance(default, (list, dict, set)) else default


def _key(self):
    return tuple(self.__dict__[f] for f in self._compared)


def _eq(self, other):
    return type(self) is type(other) and _key(self) == _key(other)


def _hash(self):
    return hash((type(self).__name__,) + _key(self))


def _repr(self):
    inner = ", ".join(f"{f}={self.__dict__[f]!r}" for f in self._compared)
    return f"{type(self).__name__}({inner})"


def _setattr(self, name, value):
    raise AttributeError(f"{type(self).__name__} is immutable")


def _record(cls):
    # Fields of record base classes first, as dataclasses orders them.
    notes: dict = {}
    for klass in reversed(cls.__mro__):
        notes.update(klass.__dict__.get("__annotations__", {}))
    fields = tuple(name for name, note in notes.items() if not str(note).startswith(("ClassVar", "typing.ClassVar")))
    cls._fields = fields
    cls._defaults = {f: getattr(cls, f) for f in fields if hasattr(cls, f)}
    ignore = cls.__dict__.get("_ignore", ("loc",))
    cls._compared = tuple(f for f in fields if f not in ignore)
    cls.__init__ = _init
    cls.__repr__ = _repr
    cls.__match_args__ = fields
    return cls


def dataclass(cls):
    """An immutable record (AST nodes: `loc` takes no part in equality)."""
    _record(cls)
    cls.__eq__ = _eq
    cls.__hash__ = _hash
    cls.__setattr__ = _setattr
    return cls


def frozen(cls):
    """dataclass for values other than AST nodes: every field takes part in equality."""
    if "_ignore" not in cls.__dict__:
        cls._ignore = ()
    return dataclass(cls)


def mutable(cls=None, *, eq: bool = True):
    """A record whose fields may be assigned.  Instances compare by their
    fields and are unhashable, or with eq=False compare (and hash) by identity."""
    def wrap(cls):
        if "_ignore" not in cls.__dict__:
            cls._ignore = ()
        _record(cls)
        if eq:
            cls.__eq__ = _eq
            cls.__hash__ = None
        return cls
    return wrap if cls is None else wrap(cls)
