from ba_tui.entry import main

main()
