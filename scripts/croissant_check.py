"""Validates a Croissant-RAI file written by `benchcards export --to croissant-rai` with
MLCommons' own library, and prints the fields it read back as JSON (the interop test compares
them with the file). Exits 1 when mlcroissant reports an error."""

import json
import sys

import mlcroissant as mlc

dataset = mlc.Dataset(jsonld=sys.argv[1])
m = dataset.metadata
json.dump(
    {
        "name": m.name,
        "data_collection": m.data_collection,
        "data_annotation_protocol": m.data_annotation_protocol,
        "data_limitations": m.data_limitations,
    },
    sys.stdout,
)
