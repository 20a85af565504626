#!/usr/bin/env bash
# A real single-node SLURM on localhost, for the tests and for trying the cluster path:
#
#   sudo bash launchers/local_slurm.sh up       # install (Debian/Ubuntu apt) if needed, configure, start
#   bash launchers/local_slurm.sh status        # sinfo + the daemons
#   sudo bash launchers/local_slurm.sh down     # stop the daemons
#
# then: python -m s1x.run -m sweeps=table2 hydra/launcher=slurm
#
# Needs root (packages, /etc/slurm, daemons). No systemd: every daemon is started
# directly. Accounting (slurmdbd + MariaDB) is on because without it a job that
# dies hard leaves submitit waiting forever. Only loopback addresses are used.
set -euo pipefail

PACKAGES="munge slurmctld slurmd slurm-client slurmdbd mariadb-server"
CLUSTER=s1x
LOG=/var/log/slurm
SPOOL=/var/spool/slurm

log() { echo "[local_slurm] $*" >&2; }

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmdbd >/dev/null && command -v munged >/dev/null \
     && command -v mariadbd >/dev/null; then
    return
  fi
  log "installing $PACKAGES"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q $PACKAGES >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $PACKAGES >/dev/null; }
}

start_munge() {
  mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  fi
  chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
  chmod 400 /etc/munge/munge.key
  chmod 755 /run/munge   # slurm daemons must reach the socket
  pgrep -x munged >/dev/null || runuser -u munge -- munged
}

start_mariadb() {
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! pgrep -x mariadbd >/dev/null; then
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null 2>&1
    (mariadbd --user=mysql --bind-address=127.0.0.1 >/var/log/mysql-s1x.log 2>&1 &)
    for _ in $(seq 60); do mariadb -e "select 1" >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
              CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
              GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
}

write_configs() {
  local cpus mem
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 2048 ))
  mkdir -p /etc/slurm "$LOG" "$SPOOL/ctld" "$SPOOL/d"
  cat > /etc/slurm/slurm.conf <<EOF
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SchedulerType=sched/backfill
# cons_tres with memory as a resource and a default per CPU: otherwise every job
# claims the whole node and jobs run one at a time.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=10
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  cat > /etc/slurm/slurmdbd.conf <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
PidFile=/run/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
EOF
  chmod 600 /etc/slurm/slurmdbd.conf   # slurmdbd refuses a readable one
}

up() {
  [ "$(id -u)" = 0 ] || { log "run as root (sudo): it installs packages and starts daemons"; exit 1; }
  install_packages
  start_munge
  start_mariadb
  write_configs
  pgrep -x slurmdbd >/dev/null || slurmdbd
  for _ in $(seq 60); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.5; done
  sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true
  pgrep -x slurmctld >/dev/null || slurmctld
  pgrep -x slurmd >/dev/null || slurmd -N localhost   # NodeName=localhost needs the name spelled out
  for _ in $(seq 60); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    case "$state" in idle*|mixed*|allocated*) break ;; esac
    scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
    sleep 0.5
  done
  sinfo
  log "up: $(sinfo -h -o '%D node(s), %c CPUs, partition %P')"
}

down() {
  for d in slurmd slurmctld slurmdbd; do pkill -x "$d" || true; done
  log "slurm daemons stopped (munged and mariadbd left running)"
}

status() {
  sinfo || true
  for d in munged mariadbd slurmdbd slurmctld slurmd; do
    printf '%-10s %s\n' "$d" "$(pgrep -x "$d" >/dev/null && echo running || echo stopped)"
  done
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
