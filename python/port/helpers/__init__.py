"""Flow helpers built on `port.api`: page builders, FlowBuilder, validation and extraction."""
