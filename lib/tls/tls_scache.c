/*
 * NAME
 *	tls_scache - TLS session resumption through a shared cache file
 * DESCRIPTION
 *	See tls_scache.h. The server keeps sessions with OpenSSL's
 *	external cache callbacks (new, get, remove) and SSL_OP_NO_TICKET,
 *	which makes TLS 1.3 tickets stateful: the ticket is the key of a
 *	cached session, so resumption works across processes without a
 *	shared ticket key (Postfix's tlsmgr shares one; we have no
 *	tlsmgr). The client stores what its new-session callback gets
 *	(TLS 1.3 tickets arrive after the handshake) under the key that
 *	tls_scache_client_start() attached to the SSL.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "tls/tls_scache.h"

typedef struct SCACHE_CTX {
    SLOT_CACHE *cache;
    long    timeout;
} SCACHE_CTX;

static int ctx_index = -1;		/* SSL_CTX ex_data: SCACHE_CTX */
static int ssl_index = -1;		/* SSL ex_data: the client's key */

static void free_key(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
		             long argl, void *argp)
{
    (void) parent;
    (void) ad;
    (void) idx;
    (void) argl;
    (void) argp;
    if (ptr)
	myfree(ptr);
}

static void indexes(void)
{
    if (ctx_index < 0)
	ctx_index = SSL_CTX_get_ex_new_index(0, 0, 0, 0, 0);
    if (ssl_index < 0)
	ssl_index = SSL_get_ex_new_index(0, 0, 0, 0, free_key);
}

static SCACHE_CTX *scache_of(SSL_CTX *ctx)
{
    return (ctx_index >= 0 ? SSL_CTX_get_ex_data(ctx, ctx_index) : 0);
}

void    tls_scache_key(VSTRING *out, const char *prefix, const char *text)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    vstring_sprintf(out, "%s&", prefix);
    if (EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), 0) != 1)
	len = 0;
    for (unsigned i = 0; i < len; i++)
	vstring_sprintf_append(out, "%02X", md[i]);
}

/* session_store - a session into the cache under key */
static void session_store(SCACHE_CTX *sc, const char *key, SSL_SESSION *sess)
{
    unsigned char *der = 0;
    int     len;

    if (!SSL_SESSION_is_resumable(sess) || (len = i2d_SSL_SESSION(sess, &der)) <= 0)
	return;
    if (slot_cache_put(sc->cache, key, der, (size_t) len) < 0 && msg_verbose)
	msg_info("TLS session cache: cannot store a session of %d bytes", len);
    OPENSSL_free(der);
}

/* session_load - a cached session, or NULL */
static SSL_SESSION *session_load(SCACHE_CTX *sc, const char *key)
{
    VSTRING *buf = vstring_alloc(2000);
    SSL_SESSION *sess = 0;

    if (slot_cache_get(sc->cache, key, sc->timeout, buf) == 1) {
	const unsigned char *p = (unsigned char *) vstring_str(buf);

	sess = d2i_SSL_SESSION(0, &p, (long) vstring_len(buf));
    }
    vstring_free(buf);
    return (sess);
}

/* id_key - the cache key of a server session ID */
static void id_key(VSTRING *out, const unsigned char *id, unsigned len)
{
    vstring_strcpy(out, "id&");
    for (unsigned i = 0; i < len; i++)
	vstring_sprintf_append(out, "%02X", id[i]);
}

static int server_new(SSL *ssl, SSL_SESSION *sess)
{
    SCACHE_CTX *sc = scache_of(SSL_get_SSL_CTX(ssl));
    VSTRING *key;
    unsigned len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);

    if (sc == 0 || len == 0)
	return (0);
    key = vstring_alloc(100);
    id_key(key, id, len);
    session_store(sc, vstring_str(key), sess);
    vstring_free(key);
    return (0);					/* we keep no reference */
}

static SSL_SESSION *server_get(SSL *ssl, const unsigned char *id, int len, int *copy)
{
    SCACHE_CTX *sc = scache_of(SSL_get_SSL_CTX(ssl));
    VSTRING *key;
    SSL_SESSION *sess;

    *copy = 0;
    if (sc == 0 || len <= 0)
	return (0);
    key = vstring_alloc(100);
    id_key(key, id, (unsigned) len);
    sess = session_load(sc, vstring_str(key));
    vstring_free(key);
    return (sess);
}

static void server_remove(SSL_CTX *ctx, SSL_SESSION *sess)
{
    SCACHE_CTX *sc = scache_of(ctx);
    VSTRING *key;
    unsigned len;
    const unsigned char *id = SSL_SESSION_get_id(sess, &len);

    if (sc == 0 || len == 0)
	return;
    key = vstring_alloc(100);
    id_key(key, id, len);
    slot_cache_del(sc->cache, vstring_str(key));
    vstring_free(key);
}

/*
 * RFC 5077 ticket keys of this process (no tlsmgr shares them): a name,
 * a key of tls_session_ticket_cipher and an HMAC-SHA256 key, random.
 */
static const EVP_CIPHER *tkt_cipher;
static unsigned char tkt_name[16];
static unsigned char tkt_key[EVP_MAX_KEY_LENGTH];
static unsigned char tkt_hmac[32];

static int ticket_key_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
			         EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    OSSL_PARAM params[3];

    (void) ssl;
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, tkt_hmac,
						  sizeof(tkt_hmac));
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (enc) {
	memcpy(name, tkt_name, sizeof(tkt_name));
	if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(tkt_cipher)) != 1
	    || EVP_EncryptInit_ex(cctx, tkt_cipher, 0, tkt_key, iv) != 1
	    || EVP_MAC_CTX_set_params(hctx, params) != 1)
	    return (-1);
	return (1);
    }
    if (memcmp(name, tkt_name, sizeof(tkt_name)) != 0)
	return (0);				/* another process's: full handshake */
    if (EVP_DecryptInit_ex(cctx, tkt_cipher, 0, tkt_key, iv) != 1
	|| EVP_MAC_CTX_set_params(hctx, params) != 1)
	return (-1);
    return (1);
}

/* ticket_cipher - a usable ticket cipher (CBC, 128-bit blocks, 128..256-bit keys) */
static const EVP_CIPHER *ticket_cipher(const char *name)
{
    const EVP_CIPHER *c;

    if (name == 0 || *name == 0 || (c = EVP_get_cipherbyname(name)) == 0)
	return (0);
    if (EVP_CIPHER_get_mode(c) != EVP_CIPH_CBC_MODE
	|| EVP_CIPHER_get_block_size(c) != 16 || EVP_CIPHER_get_iv_length(c) != 16
	|| EVP_CIPHER_get_key_length(c) < 16 || EVP_CIPHER_get_key_length(c) > 32)
	return (0);
    return (c);
}

int     tls_scache_ticket_cipher_ok(const char *name)
{
    return (ticket_cipher(name) != 0);
}

/* server_tickets - RFC 5077 tickets with tls_session_ticket_cipher, or none */
static void server_tickets(SSL_CTX *ctx, const char *cipher_name)
{
    const EVP_CIPHER *c = ticket_cipher(cipher_name);

    if (c == 0
	|| (tkt_cipher == 0
	    && (RAND_bytes(tkt_name, sizeof(tkt_name)) != 1
		|| RAND_bytes(tkt_key, sizeof(tkt_key)) != 1
		|| RAND_bytes(tkt_hmac, sizeof(tkt_hmac)) != 1))) {
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	return;
    }
    tkt_cipher = c;
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_cb);
}

void    tls_scache_server(SSL_CTX *ctx, SLOT_CACHE *cache, long timeout, const char *context,
			          const char *ticket_cipher_name)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;

    indexes();
    if (EVP_Digest(context, strlen(context), md, &len, EVP_sha256(), 0) == 1)
	SSL_CTX_set_session_id_context(ctx, md, len > SSL_MAX_SID_CTX_LENGTH ?
				       SSL_MAX_SID_CTX_LENGTH : len);
    if (timeout <= 0) {
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	return;
    }
    SSL_CTX_set_timeout(ctx, timeout);
    if (cache == 0) {
	/* RFC 5077 tickets with this process's key. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	server_tickets(ctx, ticket_cipher_name);
	return;
    }
    {
	SCACHE_CTX *sc = mymalloc(sizeof(*sc));

	sc->cache = cache;
	sc->timeout = timeout;
	SSL_CTX_set_ex_data(ctx, ctx_index, sc);
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_sess_set_new_cb(ctx, server_new);
    SSL_CTX_sess_set_get_cb(ctx, server_get);
    SSL_CTX_sess_set_remove_cb(ctx, server_remove);
}

static int client_new(SSL *ssl, SSL_SESSION *sess)
{
    SCACHE_CTX *sc = scache_of(SSL_get_SSL_CTX(ssl));
    const char *key = ssl_index >= 0 ? SSL_get_ex_data(ssl, ssl_index) : 0;

    if (sc && key)
	session_store(sc, key, sess);
    return (0);
}

void    tls_scache_client(SSL_CTX *ctx, SLOT_CACHE *cache, long timeout)
{
    SCACHE_CTX *sc;

    indexes();
    if (cache == 0 || timeout <= 0) {
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return;
    }
    sc = mymalloc(sizeof(*sc));
    sc->cache = cache;
    sc->timeout = timeout;
    SSL_CTX_set_ex_data(ctx, ctx_index, sc);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, client_new);
}

void    tls_scache_client_start(SSL *ssl, const char *serverid)
{
    SCACHE_CTX *sc = scache_of(SSL_get_SSL_CTX(ssl));
    SSL_SESSION *sess;

    if (sc == 0 || serverid == 0)
	return;
    SSL_set_ex_data(ssl, ssl_index, mystrdup(serverid));
    if ((sess = session_load(sc, serverid)) != 0) {
	(void) SSL_set_session(ssl, sess);
	SSL_SESSION_free(sess);
    }
}
