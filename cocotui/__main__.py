from cocotui.cli.main import main

raise SystemExit(main())
