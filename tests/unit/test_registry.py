from __future__ import annotations

from typing import Any

from k8s_debug_mcp.server.registry import compact_schema


def test_compact_schema_drops_titles_but_keeps_a_property_named_title() -> None:
    schema: dict[str, Any] = {
        "title": "Req",
        "type": "object",
        "properties": {"title": {"title": "Title", "type": "string"}, "n": {"title": "N", "type": "integer"}},
    }
    assert compact_schema(schema) == {
        "type": "object",
        "properties": {"title": {"type": "string"}, "n": {"type": "integer"}},
    }


def test_optional_inputs_publish_one_type_and_null_defaults_go() -> None:
    schema = {
        "anyOf": [{"type": "string", "maxLength": 5, "description": "a"}, {"type": "null"}],
        "default": None,
        "description": "d",
    }
    assert compact_schema(schema) == {"type": "string", "maxLength": 5, "description": "d"}


def test_nullable_outputs_keep_the_portable_anyof() -> None:
    schema = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert compact_schema(schema, output=True) == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_nullable_refs_stay_anyof_and_output_schemas_lose_all_defaults() -> None:
    schema = {"anyOf": [{"$ref": "#/$defs/T"}, {"type": "null"}], "default": None}
    assert compact_schema(schema) == {"anyOf": [{"$ref": "#/$defs/T"}, {"type": "null"}]}
    assert compact_schema({"type": "integer", "default": 0}, output=True) == {"type": "integer"}
    assert compact_schema({"type": "integer", "default": 0}) == {"type": "integer", "default": 0}


def test_output_schemas_drop_descriptions_but_keep_a_property_named_description() -> None:
    schema = {"properties": {"description": {"type": "string", "description": "d"}}, "description": "x"}
    assert compact_schema(schema, output=True) == {"properties": {"description": {"type": "string"}}}
    assert compact_schema(schema) == schema
