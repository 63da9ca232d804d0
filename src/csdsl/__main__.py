from csdsl.cli import main

raise SystemExit(main())
