"""The `ember` command line: one module per subcommand, gathered by ember.cli.main."""
