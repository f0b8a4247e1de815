"""The engines: evaluate (forward values), reverse mode, forward mode. None recurses over the graph."""
