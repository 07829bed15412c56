/*
 * NAME
 *	own_inet_addr - the addresses this mail system receives mail on
 * DESCRIPTION
 *	See own_inet_addr.h.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <string.h>
#include <strings.h>

#include "util/msg.h"
#include "util/argv.h"
#include "util/stringops.h"
#include "dns/dns.h"
#include "global/mail_conf.h"
#include "global/own_inet_addr.h"

static DNS_ADDR_LIST own_addrs;
static int own_addrs_done;

/* add_interfaces - the address of every local interface */
static void add_interfaces(void)
{
    struct ifaddrs *ifa, *ifp;

    if (getifaddrs(&ifa) < 0) {
	msg_warn("getifaddrs: %m");
	return;
    }
    for (ifp = ifa; ifp; ifp = ifp->ifa_next) {
	if (ifp->ifa_addr == 0)
	    continue;
	if (ifp->ifa_addr->sa_family == AF_INET)
	    dns_addr_add(&own_addrs, "", 0, AF_INET,
			 &((struct sockaddr_in *) ifp->ifa_addr)->sin_addr);
	else if (ifp->ifa_addr->sa_family == AF_INET6)
	    dns_addr_add(&own_addrs, "", 0, AF_INET6,
			 &((struct sockaddr_in6 *) ifp->ifa_addr)->sin6_addr);
    }
    freeifaddrs(ifa);
}

/* add_list - the addresses of an inet_interfaces-style list */
static void add_list(const char *param)
{
    ARGV   *av = argv_split_list(mail_conf_str(param));

    for (size_t i = 0; i < av->argc; i++) {
	char   *item = av->argv[i];
	size_t  len = strlen(item);
	struct addrinfo hints, *res, *rp;

	if (strcasecmp(item, "all") == 0) {
	    add_interfaces();
	    continue;
	}
	if (strcasecmp(item, "loopback-only") == 0) {
	    (void) dns_addr_literal("127.0.0.1", 0, &own_addrs);
	    (void) dns_addr_literal("::1", 0, &own_addrs);
	    continue;
	}
	if (item[0] == '[' && len > 2 && item[len - 1] == ']') {
	    item[len - 1] = 0;
	    item++;
	}
	if (dns_addr_literal(item, 0, &own_addrs))
	    continue;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(item, 0, &hints, &res) != 0) {
	    msg_warn("%s: cannot find the address of \"%s\"", param, item);
	    continue;
	}
	for (rp = res; rp; rp = rp->ai_next) {
	    if (rp->ai_family == AF_INET)
		dns_addr_add(&own_addrs, "", 0, AF_INET,
			     &((struct sockaddr_in *) rp->ai_addr)->sin_addr);
	    else if (rp->ai_family == AF_INET6)
		dns_addr_add(&own_addrs, "", 0, AF_INET6,
			     &((struct sockaddr_in6 *) rp->ai_addr)->sin6_addr);
	}
	freeaddrinfo(res);
    }
    argv_free(av);
}

int     own_inet_addr(int family, const void *addr)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (!own_addrs_done) {
	own_addrs_done = 1;
	add_list(VAR_INET_INTERFACES);
	add_list(VAR_PROXY_INTERFACES);
    }
    if (family == AF_INET6 && memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
	family = AF_INET;
	addr = (const unsigned char *) addr + 12;
    }
    for (size_t i = 0; i < own_addrs.count; i++)
	if (own_addrs.addr[i].family == family
	    && memcmp(own_addrs.addr[i].addr, addr, family == AF_INET6 ? 16 : 4) == 0)
	    return (1);
    return (0);
}

int     own_inet_addr_text(const char *text)
{
    unsigned char buf[16];

    if (inet_pton(AF_INET, text, buf) == 1)
	return (own_inet_addr(AF_INET, buf));
    if (inet_pton(AF_INET6, text, buf) == 1)
	return (own_inet_addr(AF_INET6, buf));
    return (0);
}
