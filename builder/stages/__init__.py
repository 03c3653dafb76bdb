"""The stages, in build order. Each module defines one ``Stage`` subclass; stages never import each other."""

# name -> module (under builder.stages) that defines it. The order is the build order.
ORDER: dict[str, str] = {
    "corpus": "builder.stages.corpus",
    "dedup": "builder.stages.dedup",
    "templates": "builder.stages.templates",
    "selfinstruct": "builder.stages.selfinstruct",
    "export": "builder.stages.export",
}
