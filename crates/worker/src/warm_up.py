# Imported before a snapshot is made (crates/worker's maker, crates/builder/make_snapshot.mjs).
import importlib, pkgutil
import port
for _module in pkgutil.walk_packages(port.__path__, "port."):
    importlib.import_module(_module.name)
import codecs, collections, csv, dataclasses, datetime, io, json, logging, math, re, typing, zipfile
del _module
