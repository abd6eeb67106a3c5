"""netfilter.hook("H").pf("P")[.priority("N")] (and .pf(...).hook(...)):
refused at pass 2.  stap's netfilter probes are hook functions its kernel
module registers with nf_register_net_hook, called for each packet and able
to change its verdict; ftstap loads no module, and neither a tracepoint nor
a kprobe can act as a netfilter hook (nor see the verdict), so every
netfilter.* probe point, stap's netfilter.ipv4.* / netfilter.arp.* /
netfilter.bridge.* aliases included, ends here with an error naming that."""
from __future__ import annotations

from .base import Provider, Unservable
from .grammar import Grammar

MISSING = ("netfilter probes are hook functions registered with nf_register_net_hook from a "
           "kernel module; ftstap loads no module, and no tracepoint or kprobe can act as a "
           "netfilter hook: for packets seen (not filtered) use netdev.*, tcp.*, udp.* or the "
           "net:/skb: tracepoints")


class NetfilterProvider(Provider):
    grammar = Grammar(("netfilter.hook(string|number).pf(string|number)[.priority(string|number)]",
                       "netfilter.pf(string|number).hook(string|number)[.priority(string|number)]"))

    def resolve(self, comps, features):
        if not comps or comps[0].name != "netfilter":
            return None
        raise Unservable(MISSING)
