"""The script-facing API: commands, props, `Table` and the file adapter."""
