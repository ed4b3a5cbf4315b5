from touchbase.cli import main

main()
