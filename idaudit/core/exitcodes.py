"""Documented exit codes (README, `idaudit --help`), chosen for cron and CI.

Precedence when several apply: ERROR > FINDINGS > INCOMPLETE > OK.
"""

OK = 0  # ran to the end; no failing high/critical finding (check) or none new since the last run (audit)
USAGE = 2  # bad command line (argparse)
FINDINGS = 3  # failing high/critical findings (check); new ones since the last run, or a sign of takeover (audit)
INCOMPLETE = 4  # ran, but some data was not collected: some checks are `unknown`
ERROR = 5  # bad input (snapshot, config), failed sign-in, or another error that stopped the run
INTERRUPTED = 130  # SIGINT / SIGTERM

DESCRIPTION = """exit codes:
  0  clean: no failing high/critical finding (check) / none new since last run (audit)
  2  usage error
  3  failing high/critical findings (check) / new ones since the last run (audit)
  4  incomplete: some data was not collected, some checks are unknown
  5  error: bad snapshot or config, failed sign-in
  130 interrupted"""
