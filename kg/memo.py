"""Answers kept per store and per version of its data: computed once, forgotten at the next write.

``per_data(size)`` memoises ``fn(store, *args)`` (hashable arguments) on the store's ``generation``,
which every write through ``kg.store.Store`` moves on (before and after it lands). Query worker
processes open a fresh store after every write, so their caches start empty. A store that is not a
``kg.store.Store`` (a remote endpoint can change behind our back) is never cached. Callers must not
modify what they get back: the same object serves every caller until the next write.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Concatenate, ParamSpec, TypeVar

from .contract import StoreAPI
from .store import Store

T = TypeVar("T")
P = ParamSpec("P")
#: (the store's generation, the positional arguments, the keyword arguments)
Key = tuple[int, Hashable, Hashable]


def per_data(size: int) -> Callable[[Callable[Concatenate[Any, P], T]], Callable[Concatenate[Any, P], T]]:
    """Keep the ``size`` latest answers of ``fn`` per store, for the store's current data."""

    def wrap(fn: Callable[Concatenate[Any, P], T]) -> Callable[Concatenate[Any, P], T]:
        kept: weakref.WeakKeyDictionary[StoreAPI, OrderedDict[Key, T]] = weakref.WeakKeyDictionary()
        lock = threading.Lock()

        @functools.wraps(fn)
        def cached(store: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
            if not isinstance(store, Store):
                return fn(store, *args, **kwargs)
            key = (store.generation, args, tuple(sorted(kwargs.items())))
            with lock:
                answers = kept.setdefault(store, OrderedDict())
                if key in answers:
                    answers.move_to_end(key)
                    return answers[key]
            made = fn(store, *args, **kwargs)
            if store.generation == key[0]:  # no write began or ended meanwhile
                with lock:
                    answers[key] = made
                    for old in [k for k in answers if k[0] != store.generation]:  # answers of older data
                        del answers[old]
                    while len(answers) > size:
                        answers.popitem(last=False)
            return made

        return cached

    return wrap
