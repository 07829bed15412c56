/*
 * NAME
 *	test_attr - attribute lists read by table (attr_scan)
 * DESCRIPTION
 *	A small table with each type and a repeated group, fed lists over
 *	a socketpair (attr_scan) or as built lists (attr_scan_list): what
 *	is stored, what is refused and why, what is skipped, the bounds a
 *	table puts on the wire, and the framing of a list that arrives in
 *	pieces.
 */
#include <sys/socket.h>
#include <limits.h>
#include <unistd.h>

#include "unit.h"
#include "util/mymalloc.h"
#include "util/vstring.h"
#include "util/vstream.h"
#include "util/attr.h"

typedef struct ITEM {
    char   *name;
    long    weight;
} ITEM;

typedef struct ORDER {
    char   *id;
    int     priority;
    off_t   offset;
    double  when;
    char   *note;
    ITEM   *items;
    size_t  item_count;
} ORDER;

static const ATTR_SCAN item_table[] = {
    ATTR_STR("item", ITEM, name, ATTR_FLAG_REQUIRED, 1, 20),
    ATTR_LONG("weight", ITEM, weight, ATTR_FLAG_REQUIRED, 0, 1000),
    ATTR_END,
};

static const ATTR_SCAN order_table[] = {
    ATTR_STR("id", ORDER, id, ATTR_FLAG_REQUIRED, 1, 10),
    ATTR_INT("priority", ORDER, priority, 0, -5, 5),
    ATTR_OFF("offset", ORDER, offset, 0, 0, LONG_MAX),
    ATTR_DOUBLE("when", ORDER, when, 0, 0, 1e10),
    ATTR_STR("note", ORDER, note, 0, 0, 100),
    ATTR_GROUP("item", ORDER, items, item_count, ITEM, item_table, 0, 0, 3),
    ATTR_END,
};

static ATTR *list(const char **pairs)
{
    ATTR   *a = attr_alloc();

    for (; pairs[0]; pairs += 2)
	attr_add(a, pairs[0], pairs[1]);
    return (a);
}

/* scan - scan pairs into a fresh order; -1 leaves the reason in why */
static int scan(const char **pairs, ORDER *order, VSTRING *why)
{
    ATTR   *a = list(pairs);
    int     ret;

    memset(order, 0, sizeof(*order));
    order->priority = 3;			/* a default */
    vstring_reset(why);
    ret = attr_scan_list(a, order_table, order, why);
    attr_free(a);
    return (ret);
}

/* refused - the pairs fail, for this reason */
static const char *refused(const char **pairs)
{
    static VSTRING *why;
    ORDER   order;

    if (why == 0)
	why = vstring_alloc(100);
    if (scan(pairs, &order, why) == 0)
	vstring_strcpy(why, "(accepted)");
    attr_scan_free(order_table, &order);
    return (vstring_str(why));
}

UNIT_TEST(every_type_and_group)
{
    const char *pairs[] = {"id", "A1", "priority", "-2", "offset", "123456789012",
	"when", "1795423585.25", "item", "pen", "weight", "7", "item", "ink",
    "weight", "0", "note", "after the group", 0};
    VSTRING *why = vstring_alloc(10);
    ORDER   order;

    EXPECT_INT(scan(pairs, &order, why), 0);
    EXPECT_STR(order.id, "A1");
    EXPECT_INT(order.priority, -2);
    EXPECT_INT(order.offset, 123456789012LL);
    EXPECT(order.when > 1795423585.24 && order.when < 1795423585.26);
    EXPECT_STR(order.note, "after the group");
    EXPECT_INT(order.item_count, 2);
    if (order.item_count == 2) {
	EXPECT_STR(order.items[0].name, "pen");
	EXPECT_INT(order.items[0].weight, 7);
	EXPECT_STR(order.items[1].name, "ink");
	EXPECT_INT(order.items[1].weight, 0);
    }
    attr_scan_free(order_table, &order);
    EXPECT(order.id == 0 && order.note == 0 && order.items == 0);
    EXPECT_INT(order.item_count, 0);
    vstring_free(why);
}

UNIT_TEST(absent_optional_keeps_default)
{
    const char *pairs[] = {"id", "A1", 0};
    VSTRING *why = vstring_alloc(10);
    ORDER   order;

    EXPECT_INT(scan(pairs, &order, why), 0);
    EXPECT_INT(order.priority, 3);
    EXPECT(order.note == 0);
    EXPECT_INT(order.item_count, 0);
    attr_scan_free(order_table, &order);
    vstring_free(why);
}

UNIT_TEST(missing_required)
{
    const char *no_id[] = {"priority", "1", 0};
    const char *no_weight[] = {"id", "A1", "item", "pen", "weight", "1", "item", "ink", 0};
    const char *no_weight_first[] = {"id", "A1", "item", "pen", "item", "ink",
    "weight", "1", 0};

    EXPECT_STR(refused(no_id), "missing attribute id");
    EXPECT_STR(refused(no_weight), "missing attribute weight");
    EXPECT_STR(refused(no_weight_first), "missing attribute weight");
}

UNIT_TEST(bad_numbers)
{
    const char *bad[] = {"", "-", "12x", " 5", "+5", "0x10", "5 ", "6", "-6",
    "99999999999999999999999", 0};
    const char *bad_double[] = {"1e5", "nan", "inf", "-1", "1.", ".5", "2e10", "1,5", 0};
    const char *bad_off[] = {"-1", "9223372036854775808", 0};

    for (const char **cp = bad; *cp; cp++) {
	const char *pairs[] = {"id", "A1", "priority", *cp, 0};

	EXPECT_STR(refused(pairs), "attribute priority: malformed or out-of-range number");
    }
    for (const char **cp = bad_double; *cp; cp++) {
	const char *pairs[] = {"id", "A1", "when", *cp, 0};

	EXPECT_STR(refused(pairs), "attribute when: malformed or out-of-range number");
    }
    for (const char **cp = bad_off; *cp; cp++) {
	const char *pairs[] = {"id", "A1", "offset", *cp, 0};

	EXPECT_STR(refused(pairs), "attribute offset: malformed or out-of-range number");
    }

    /* The edges of a range are in it. */
    const char *edges[] = {"id", "A1", "priority", "-5", "offset", "9223372036854775807",
    "when", "0", 0};

    EXPECT_STR(refused(edges), "(accepted)");
}

UNIT_TEST(unknown_extra_skipped)
{
    const char *pairs[] = {"future", "x", "id", "A1", "item", "pen", "weight", "1",
    "color", "red", "future", "again", 0};
    VSTRING *why = vstring_alloc(10);
    ORDER   order;

    EXPECT_INT(scan(pairs, &order, why), 0);
    EXPECT_STR(order.id, "A1");
    EXPECT_INT(order.item_count, 1);
    attr_scan_free(order_table, &order);
    vstring_free(why);
}

UNIT_TEST(lengths_and_counts)
{
    const char *long_id[] = {"id", "12345678901", 0};
    const char *empty_id[] = {"id", "", 0};
    const char *empty_item[] = {"id", "A1", "item", "", "weight", "1", 0};
    const char *four_items[] = {"id", "A1", "item", "a", "weight", "1", "item", "b",
    "weight", "1", "item", "c", "weight", "1", "item", "d", "weight", "1", 0};

    EXPECT_STR(refused(long_id), "attribute id: value too long");
    EXPECT_STR(refused(empty_id), "attribute id: value too short");
    EXPECT_STR(refused(empty_item), "attribute item: value too short");
    EXPECT_STR(refused(four_items), "too many item attributes");
}

UNIT_TEST(twice_and_out_of_place)
{
    const char *twice[] = {"id", "A1", "id", "A2", 0};
    const char *twice_in_item[] = {"id", "A1", "item", "a", "weight", "1", "weight", "2", 0};
    const char *orphan[] = {"id", "A1", "weight", "1", "item", "a", 0};
    const char *per_item[] = {"id", "A1", "item", "a", "weight", "1", "item", "b",
    "weight", "2", 0};

    EXPECT_STR(refused(twice), "attribute id given twice");
    EXPECT_STR(refused(twice_in_item), "attribute weight given twice for one item");
    EXPECT_STR(refused(orphan), "attribute weight outside its item group");
    EXPECT_STR(refused(per_item), "(accepted)");
}

static void pair(VSTREAM **a, VSTREAM **b)
{
    int     sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
	abort();
    *a = vstream_fdopen(sv[0]);
    *b = vstream_fdopen(sv[1]);
    vstream_set_timeout(*a, 5);
    vstream_set_timeout(*b, 5);
}

UNIT_TEST(stream_round_trip_and_eof)
{
    VSTREAM *w, *r;
    const char *pairs[] = {"id", "A1", "item", "pen", "weight", "7", 0};
    ATTR   *a = list(pairs);
    VSTRING *why = vstring_alloc(10);
    ORDER   order;

    pair(&w, &r);
    EXPECT_INT(attr_send(w, a), 0);
    memset(&order, 0, sizeof(order));
    EXPECT_INT(attr_scan(r, order_table, &order, why), 1);
    EXPECT_STR(order.id, "A1");
    EXPECT_INT(order.item_count, 1);
    attr_scan_free(order_table, &order);

    /* A clean end of file before the first byte is not an error. */
    vstream_close(w);
    EXPECT_INT(attr_scan(r, order_table, &order, why), 0);
    attr_scan_free(order_table, &order);
    vstream_close(r);
    attr_free(a);
    vstring_free(why);
}

/*
 * The table bounds the wire: no name or value longer than its longest
 * string (ATTR_NUM_LEN at least), no more pairs than its entries and
 * groups hold plus ATTR_SCAN_EXTRA. The peer is not trusted with more.
 */
UNIT_TEST(stream_oversize_refused)
{
    VSTREAM *w, *r;
    VSTRING *why = vstring_alloc(10);
    VSTRING *big = vstring_alloc(200);
    ATTR   *a = attr_alloc();
    ORDER   order;
    size_t  allowed;

    /* A value longer than any string of the table. */
    pair(&w, &r);
    while (vstring_len(big) <= ATTR_NUM_LEN + 100)
	vstring_addch(big, 'x');
    attr_add(a, "id", "A1");
    attr_add(a, "future", vstring_str(big));
    EXPECT_INT(attr_send(w, a), 0);
    memset(&order, 0, sizeof(order));
    EXPECT_INT(attr_scan(r, order_table, &order, why), -1);
    EXPECT_STR(vstring_str(why), "attribute name or value too long");
    attr_scan_free(order_table, &order);
    vstream_close(w);
    vstream_close(r);

    /* More pairs than the table can hold. */
    pair(&w, &r);
    attr_reset(a);
    attr_add(a, "id", "A1");
    allowed = 5 + 3 * 2 + ATTR_SCAN_EXTRA;
    for (size_t i = 0; i < allowed; i++)
	attr_add(a, "future", "x");
    EXPECT_INT(attr_send(w, a), 0);
    EXPECT_INT(attr_scan(r, order_table, &order, why), -1);
    EXPECT_STR(vstring_str(why), "too many attributes");
    attr_scan_free(order_table, &order);
    vstream_close(w);
    vstream_close(r);

    /* Exactly as many is fine. A refused list leaves the stream unusable. */
    pair(&w, &r);
    attr_reset(a);
    attr_add(a, "id", "A1");
    for (size_t i = 0; i + 1 < allowed; i++)
	attr_add(a, "future", "x");
    EXPECT_INT(attr_send(w, a), 0);
    EXPECT_INT(attr_scan(r, order_table, &order, why), 1);
    attr_scan_free(order_table, &order);

    /* A list cut short. */
    vstream_write(w, "id\0A1\0note\0no end", 17);
    vstream_fflush(w);
    shutdown(vstream_fileno(w), SHUT_WR);
    EXPECT_INT(attr_scan(r, order_table, &order, why), -1);
    EXPECT_STR(vstring_str(why), "list truncated");
    attr_scan_free(order_table, &order);
    vstream_close(w);
    vstream_close(r);
    attr_free(a);
    vstring_free(big);
    vstring_free(why);
}

UNIT_TEST(send_status)
{
    VSTREAM *w, *r;
    char    buf[32];
    ssize_t n;

    pair(&w, &r);
    EXPECT_INT(attr_send_status(w, 4), 0);
    n = read(vstream_fileno(r), buf, sizeof(buf));
    EXPECT_INT(n, 10);
    EXPECT(n == 10 && memcmp(buf, "status\0" "4\0\0", 10) == 0);
    vstream_close(w);
    vstream_close(r);
}

/*
 * attr_scan() scans as it reads: a list refused half way is still read
 * to its end, so the next list on the stream is read whole; the
 * writers put the same bytes on the wire as attr_send().
 */
UNIT_TEST(stream_refused_then_next_and_put)
{
    VSTREAM *w, *r;
    VSTRING *why = vstring_alloc(10);
    const char *bad[] = {"id", "A1", "priority", "9", "note", "after", "item", "x",
    "weight", "1", 0};
    ATTR   *a = list(bad);
    ORDER   order;
    char    buf[128];
    ssize_t n;

    pair(&w, &r);
    EXPECT_INT(attr_send(w, a), 0);
    attr_put(w, "id", "B2");
    attr_put_num(w, "priority", -4);
    attr_put_num(w, "offset", 1234567890123LL);
    attr_put_fixed6(w, "when", 12.5);
    attr_put(w, "item", "pen");
    attr_put_num(w, "weight", 0);
    EXPECT_INT(attr_put_end(w), 0);
    memset(&order, 0, sizeof(order));
    EXPECT_INT(attr_scan(r, order_table, &order, why), -1);
    EXPECT_STR(vstring_str(why), "attribute priority: malformed or out-of-range number");
    attr_scan_free(order_table, &order);
    memset(&order, 0, sizeof(order));
    EXPECT_INT(attr_scan(r, order_table, &order, why), 1);
    EXPECT_STR(order.id, "B2");
    EXPECT_INT(order.priority, -4);
    EXPECT(order.offset == 1234567890123LL);
    EXPECT(order.when == 12.5);
    EXPECT_INT(order.item_count, 1);
    EXPECT(order.item_count == 1 && order.items[0].weight == 0);
    attr_scan_free(order_table, &order);

    /* The bytes: numbers in decimal, "%.6f" for fixed6. */
    attr_put_num(w, "n", 0);
    attr_put_fixed6(w, "d", 0.0000004);
    attr_put_fixed6(w, "e", 1796673027.25);
    EXPECT_INT(attr_put_end(w), 0);
    n = read(vstream_fileno(r), buf, sizeof(buf));
    EXPECT_INT(n, 36);
    EXPECT(n == 36 && memcmp(buf, "n\0" "0\0" "d\0" "0.000000\0" "e\0" "1796673027.250000\0\0", 36) == 0);
    vstream_close(w);
    vstream_close(r);
    attr_free(a);
    vstring_free(why);
}

UNIT_TEST(frame_in_pieces)
{
    /* a=one bb="" then the end, then the start of whatever follows */
    static const char wire[] = "a\0one\0bb\0\0\0zz";
    size_t  len = sizeof(wire) - 1;
    size_t  end = 11;			/* bytes up to and with the end */

    /* Whatever the split, the end is seen in the piece that holds it. */
    for (size_t cut = 0; cut <= len; cut++) {
	ATTR_FRAME f = {0};
	int     first = attr_frame_scan(&f, wire, cut < end ? cut : end);

	EXPECT_INT(first, cut >= end);
	if (cut < end)
	    EXPECT_INT(attr_frame_scan(&f, wire + cut, len - cut), 1);
    }
}

int     main(void)
{
    return (unit_run());
}
