import sys

from benchmarks import run

run.one_thread_env()
sys.exit(run.main())
