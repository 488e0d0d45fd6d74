from collabgraph.cli.app import main

main()
