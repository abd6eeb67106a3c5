from ftstap.cli import main

main()
