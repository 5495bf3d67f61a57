#!/usr/bin/env bash
# A real single-node Slurm cluster in one folder, for the tests and for trying
# deploy/slurm/campaign.sbatch by hand (Debian 12: slurmctld slurmd slurmdbd
# slurm-client munge mariadb-server, installed by scripts/setup.sh test).
#
#   tests/deploy/slurm_cluster.sh start DIR   # prints SLURM_CONF=DIR/slurm.conf
#   SLURM_CONF=DIR/slurm.conf sbatch --array=1-3 deploy/slurm/campaign.sbatch
#   tests/deploy/slurm_cluster.sh stop DIR
#
# Everything lives in DIR: munged with its own key and socket, a MariaDB
# server for the accounting database (sacct needs slurmdbd, and slurmdbd
# needs MySQL/MariaDB), slurmdbd, slurmctld and one slurmd with 2 CPUs and no
# GPU gres. Daemons listen on free loopback ports, run as root (this is a
# throw-away test cluster) and log to DIR/*.log. Nothing in /etc is touched.
# Exit status 77 with a reason on stderr when the packages are missing.
set -euo pipefail

cmd="${1:?usage: slurm_cluster.sh start|stop DIR}"
dir="${2:?usage: slurm_cluster.sh start|stop DIR}"

stop_cluster() {
  # Reverse order; each daemon by its pid file, then wait for it to exit.
  local name pid
  for name in slurmd slurmctld slurmdbd mariadbd munged; do
    [[ -f "$dir/$name.pid" ]] || continue
    pid="$(cat "$dir/$name.pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/$name.pid"
  done
}

if [[ "$cmd" == stop ]]; then
  stop_cluster
  exit 0
fi
[[ "$cmd" == start ]] || { echo "slurm_cluster.sh: unknown command '$cmd' (start or stop)" >&2; exit 2; }

for tool in munged mungekey mariadbd mariadb-install-db mariadb slurmdbd slurmctld slurmd sbatch sacct; do
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null; then
    echo "slurm_cluster.sh: '$tool' is not installed (scripts/setup.sh test installs slurmctld slurmd slurmdbd slurm-client munge mariadb-server)" >&2
    exit 77
  fi
done
if [[ $(id -u) -ne 0 ]]; then
  echo "slurm_cluster.sh: the daemons must start as root (slurmd runs jobs as their users)" >&2
  exit 77
fi
export PATH="$PATH:/usr/sbin:/sbin"

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local seconds="$1" what="$2"
  shift 2
  for _ in $(seq $((seconds * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "slurm_cluster.sh: $what did not come up within ${seconds}s; logs in $dir" >&2
  stop_cluster
  exit 1
}

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
rm -rf "$dir/state" "$dir/spool" "$dir/db"
mkdir -p "$dir/state" "$dir/spool/jbnode" "$dir/db"

# munge: a fresh key, its own socket.
mungekey -c -f -k "$dir/munge.key"
chmod 0400 "$dir/munge.key"
munged --force --socket="$dir/munge.socket" --key-file="$dir/munge.key" --log-file="$dir/munged.log" \
  --pid-file="$dir/munged.pid" --seed-file="$dir/munged.seed"
wait_for 10 munged munge --socket="$dir/munge.socket" -n

# MariaDB for slurmdbd: socket and port of its own, a 'slurm' user.
db_port="$(free_port)"
mariadb-install-db --datadir="$dir/db" --user=root --skip-test-db --auth-root-authentication-method=socket \
  >"$dir/mariadb-install.log" 2>&1
mariadbd --no-defaults --datadir="$dir/db" --socket="$dir/mariadb.sock" --port="$db_port" \
  --bind-address=127.0.0.1 --user=root --pid-file="$dir/mariadbd.pid" --log-error="$dir/mariadbd.log" \
  --innodb-buffer-pool-size=32M --innodb-flush-log-at-trx-commit=0 --skip-log-bin >/dev/null 2>&1 &
wait_for 30 mariadbd mariadb --socket="$dir/mariadb.sock" -u root -e "SELECT 1"
mariadb --socket="$dir/mariadb.sock" -u root -e \
  "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
   GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"

dbd_port="$(free_port)"
ctld_port="$(free_port)"
slurmd_port="$(free_port)"
auth="AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket"

cat >"$dir/slurmdbd.conf" <<EOF
$auth
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=$dir/slurmdbd.pid
LogFile=$dir/slurmdbd.log
EOF
chmod 0600 "$dir/slurmdbd.conf"

cat >"$dir/slurm.conf" <<EOF
ClusterName=jbtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
$auth
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$dbd_port
# For slurmdbd this names the munge socket, not a password.
AccountingStoragePass=$dir/munge.socket
MailProg=/bin/true
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdParameters=config_overrides
# Short timers: a test cluster, jobs of seconds.
SchedulerParameters=sched_interval=1
MessageTimeout=10
KillWait=5
MinJobAge=600
NodeName=jbnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 State=UNKNOWN
PartitionName=debug Nodes=jbnode Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$dir/slurm.conf"

slurmdbd
wait_for 30 slurmdbd bash -c "exec 3<>/dev/tcp/127.0.0.1/$dbd_port"
# The cluster must exist in the accounting database before slurmctld reports to it.
sacctmgr -i add cluster jbtest >"$dir/sacctmgr.log" 2>&1 || true
slurmctld
wait_for 30 slurmctld scontrol ping
slurmd -N jbnode
wait_for 30 "slurmd (node jbnode idle)" bash -c "sinfo -h -n jbnode -o %t | grep -qx idle"
echo "SLURM_CONF=$dir/slurm.conf"
