from ba_tui.cli import main

main()
