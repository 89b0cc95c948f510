//! CLUSTER, READONLY, READWRITE and ASKING, as a Redis 7.0 server with `cluster-enabled no` answers them: every
//! one is refused with `This instance has cluster support disabled`. The rows carry Redis's flags, so a script
//! calling `CLUSTER RESET` is told it is not allowed there, and COMMAND, ACL categories and MULTI see the family
//! as Redis declares it. Cluster mode itself is not built.

use super::flags::*;
use super::{Args, Command, Ctx};
use crate::protocol::Reply;

fn disabled(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::err("This instance has cluster support disabled")
}

const SUBCOMMANDS: &[Command] = &[
    Command::new("addslots", -3, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Assign new hash slots to receiving node")
        .complexity("O(N) where N is the total number of hash slot arguments"),
    Command::new("addslotsrange", -4, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "7.0.0", "Assign new hash slots to receiving node")
        .complexity("O(N) where N is the total number of the slots between the start slot and end slot arguments."),
    Command::new("bumpepoch", 2, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Advance the cluster config epoch")
        .complexity("O(1)"),
    Command::new("count-failure-reports", 3, ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Return the number of failure reports active for a given node")
        .complexity("O(N) where N is the number of failure reports"),
    Command::new("countkeysinslot", 3, STALE, disabled)
        .doc("cluster", "3.0.0", "Return the number of local keys in the specified hash slot")
        .complexity("O(1)"),
    Command::new("delslots", -3, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Set hash slots as unbound in receiving node")
        .complexity("O(N) where N is the total number of hash slot arguments"),
    Command::new("delslotsrange", -4, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "7.0.0", "Set hash slots as unbound in receiving node")
        .complexity("O(N) where N is the total number of the slots between the start slot and end slot arguments."),
    Command::new("failover", -2, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Forces a replica to perform a manual failover of its master.")
        .complexity("O(1)"),
    Command::new("flushslots", 2, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Delete a node's own slots information")
        .complexity("O(1)"),
    Command::new("forget", 3, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Remove a node from the nodes table")
        .complexity("O(1)"),
    Command::new("getkeysinslot", 4, STALE, disabled)
        .doc("cluster", "3.0.0", "Return local key names in the specified hash slot")
        .complexity("O(log(N)) where N is the number of requested keys"),
    Command::new("help", 2, LOADING | STALE, disabled)
        .doc("cluster", "5.0.0", "Show helpful text about the different subcommands")
        .complexity("O(1)"),
    Command::new("info", 2, STALE, disabled)
        .doc("cluster", "3.0.0", "Provides info about Redis Cluster node state")
        .complexity("O(1)"),
    Command::new("keyslot", 3, STALE, disabled)
        .doc("cluster", "3.0.0", "Returns the hash slot of the specified key")
        .complexity("O(N) where N is the number of bytes in the key"),
    Command::new("links", 2, STALE, disabled)
        .doc("cluster", "7.0.0", "Returns a list of all TCP links to and from peer nodes in cluster")
        .complexity("O(N) where N is the total number of Cluster nodes"),
    Command::new("meet", -4, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Force a node cluster to handshake with another node")
        .complexity("O(1)"),
    Command::new("myid", 2, STALE, disabled)
        .doc("cluster", "3.0.0", "Return the node id")
        .complexity("O(1)"),
    Command::new("nodes", 2, STALE, disabled)
        .doc("cluster", "3.0.0", "Get Cluster config for the node")
        .complexity("O(N) where N is the total number of Cluster nodes"),
    Command::new("replicas", 3, ADMIN | STALE, disabled)
        .doc("cluster", "5.0.0", "List replica nodes of the specified master node")
        .complexity("O(1)"),
    Command::new("replicate", 3, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Reconfigure a node as a replica of the specified master node")
        .complexity("O(1)"),
    Command::new("reset", -2, ADMIN | STALE | NOSCRIPT, disabled)
        .doc("cluster", "3.0.0", "Reset a Redis Cluster node")
        .complexity("O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect."),
    Command::new("saveconfig", 2, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Forces the node to save cluster state on disk")
        .complexity("O(1)"),
    Command::new("set-config-epoch", 3, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Set the configuration epoch in a new node")
        .complexity("O(1)"),
    Command::new("setslot", -4, NO_ASYNC_LOADING | ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "Bind a hash slot to a specific node")
        .complexity("O(1)"),
    Command::new("shards", 2, STALE, disabled)
        .doc("cluster", "7.0.0", "Get array of cluster slots to node mappings")
        .complexity("O(N) where N is the total number of cluster nodes"),
    Command::new("slaves", 3, ADMIN | STALE, disabled)
        .doc("cluster", "3.0.0", "List replica nodes of the specified master node")
        .complexity("O(1)"),
    Command::new("slots", 2, STALE, disabled)
        .doc("cluster", "3.0.0", "Get array of Cluster slot to node mappings")
        .complexity("O(N) where N is the total number of Cluster nodes"),
];

pub const COMMANDS: &[Command] = &[
    Command::new("cluster", -2, 0, disabled)
        .subcommands(SUBCOMMANDS)
        .doc("cluster", "3.0.0", "A container for cluster commands")
        .complexity("Depends on subcommand."),
    Command::new("asking", 1, FAST, disabled)
        .acl(&["connection"])
        .doc(
            "cluster",
            "3.0.0",
            "Sent by cluster clients after an -ASK redirect",
        )
        .complexity("O(1)"),
    Command::new("readonly", 1, FAST | LOADING | STALE, disabled)
        .acl(&["connection"])
        .doc(
            "cluster",
            "3.0.0",
            "Enables read queries for a connection to a cluster replica node",
        )
        .complexity("O(1)"),
    Command::new("readwrite", 1, FAST | LOADING | STALE, disabled)
        .acl(&["connection"])
        .doc(
            "cluster",
            "3.0.0",
            "Disables read queries for a connection to a cluster replica node",
        )
        .complexity("O(1)"),
];
