"""parity_util.py: what the training-side PyTorch parity scripts (test_train_parity.py,
test_kd_parity.py, test_grpo_parity.py) share: running an srlm helper and counting the
comparisons that miss their bound. Not a reference implementation (that is torch_ref.py)."""
import subprocess
import sys


def run(cmd):
    """Runs cmd, echoing its stdout; exits with its output when it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        sys.stderr.write('command failed: %s\n%s%s' % (' '.join(cmd), r.stdout, r.stderr))
        sys.exit(1)


class Report:
    """Prints one line per comparison (error against bound) and counts the failures."""

    def __init__(self, width):
        self.width = width
        self.failures = 0

    def __call__(self, what, err, bound):
        ok = err <= bound
        print('%-*s %.3g (bound %.0e) %s' % (self.width, what, err, bound, 'ok' if ok else 'FAIL'))
        self.failures += 0 if ok else 1
