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
    # maxLength is validated by the server and only noise to the model
    assert compact_schema(schema) == {"type": "string", "description": "d"}


def test_nullable_outputs_publish_one_type_because_results_leave_none_out() -> None:
    schema = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert compact_schema(schema, output=True) == {"type": "string"}


def test_nullable_refs_become_the_ref_and_output_schemas_lose_all_defaults() -> None:
    schema = {"anyOf": [{"$ref": "#/$defs/T"}, {"type": "null"}], "default": None}
    assert compact_schema(schema) == {"$ref": "#/$defs/T"}
    assert compact_schema({"type": "integer", "default": 0}, output=True) == {"type": "integer"}
    assert compact_schema({"type": "integer", "default": 0}) == {"type": "integer", "default": 0}


def test_output_schemas_drop_descriptions_and_required_but_keep_properties_of_those_names() -> None:
    schema = {
        "properties": {"description": {"type": "string", "description": "d"}, "required": {"type": "boolean"}},
        "description": "x",
        "required": ["description"],
    }
    assert compact_schema(schema, output=True) == {
        "properties": {"description": {"type": "string"}, "required": {"type": "boolean"}}
    }


def test_single_use_definitions_are_inlined() -> None:
    from k8s_debug_mcp.server.registry import inline_single_use_defs

    schema = {
        "$defs": {"A": {"type": "integer"}, "B": {"type": "string"}},
        "properties": {"a": {"$ref": "#/$defs/A"}, "b1": {"$ref": "#/$defs/B"}, "b2": {"$ref": "#/$defs/B"}},
    }
    assert inline_single_use_defs(schema) == {
        "properties": {"a": {"type": "integer"}, "b1": {"$ref": "#/$defs/B"}, "b2": {"$ref": "#/$defs/B"}},
        "$defs": {"B": {"type": "string"}},
    }
    assert compact_schema(schema) == schema
