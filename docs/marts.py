"""The marts table, from the Dagster code location itself: each mart asset's key, description
and columns (the column schema `pipelines.marts_contract` gives it), so the documented tables
are the ones the pipeline builds."""

from docs.md import code, table

LAYER = "marts"


def mart_specs() -> list[tuple[str, str, list[str]]]:
    """(table name, description, column names) of every asset under the `marts` key prefix."""
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    found = []
    for key in graph.get_all_asset_keys():
        if len(key.path) != 2 or key.path[0] != LAYER:
            continue
        node = graph.get(key)
        schema = node.metadata.get("dagster/column_schema")
        columns = [column.name for column in schema.schema.columns] if schema else []
        found.append((".".join(key.path), node.description or "", columns))
    return sorted(found)


def render() -> str:
    specs = mart_specs()
    with_columns = any(columns for _, _, columns in specs)
    headers = ("table", "what it holds", *(("columns",) if with_columns else ()))
    rows = [
        (code(name), text, *((", ".join(columns),) if with_columns else ()))
        for name, text, columns in specs
    ]
    return table(headers, rows)
