"""What the program decides before it registers anything: settings, names, the tool catalog and
the files of the workflow package. Nothing here creates a resource."""
