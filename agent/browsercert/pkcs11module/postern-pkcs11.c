/*
 * postern-pkcs11: a PKCS#11 module that lets a browser present the
 * Postern device certificate whose key lives in the machine's TPM.
 *
 * The module holds no key. It asks the Postern agent, over the agent's
 * Unix socket, for the device certificate and for ECDSA signatures; the
 * agent, which alone opens the TPM, signs inside it and answers only the
 * user it placed the certificate for (SO_PEERCRED). So the browser needs
 * no access to the TPM and the person is asked for no PIN: the token
 * reports no login, as a smart card in a trusted reader would.
 *
 * One slot, one read-only token, three objects (certificate, private
 * key, public key) and one mechanism (CKM_ECDSA over a digest the
 * browser computed). Everything else answers CKR_FUNCTION_NOT_SUPPORTED.
 *
 * The socket is POSTERN_KEY_SOCKET when set (tests), else
 * /run/postern/key.sock. Wire format, both ways: one byte (request: the
 * operation 'C' or 'S'; answer: 0 ok, 1 refused), a big-endian uint32
 * length, that many bytes. 'C' answers eight length-prefixed fields:
 * certificate DER, subject, issuer, serial number (DER INTEGER), CKA_ID,
 * label, EC parameters, EC point. 'S' carries the digest and answers
 * the signature as r||s.
 *
 * Build: cc -shared -fPIC -O2 -I/usr/include/p11-kit-1 -o libpostern-pkcs11.so postern-pkcs11.c
 */
#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/postern/key.sock"
#define SLOT_ID 1
#define MAX_SESSIONS 64
#define MAX_FIELD (64 * 1024)
#define CACHE_SECONDS 10

enum { OBJ_CERT = 1, OBJ_PRIV = 2, OBJ_PUB = 3, NOBJ = 3 };
enum { F_CERT, F_SUBJECT, F_ISSUER, F_SERIAL, F_ID, F_LABEL, F_PARAMS, F_POINT, NFIELDS };

struct blob {
	unsigned char *p;
	unsigned long n;
};

struct session {
	int open;
	/* find */
	int finding;
	ck_object_handle_t found[NOBJ];
	unsigned long nfound, next;
	/* sign */
	int signing;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int initialized;
static struct session sessions[MAX_SESSIONS];
static struct blob fields[NFIELDS];
static int have_identity;
static time_t fetched;

static const char *socket_path(void)
{
	const char *p = getenv("POSTERN_KEY_SOCKET");
	return p && *p ? p : DEFAULT_SOCKET;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		/* MSG_NOSIGNAL: an agent that hung up must not kill the
		 * browser with SIGPIPE. */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void put32(unsigned char *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static uint32_t get32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ask sends one request and returns the answer's payload (malloc'd) or
 * NULL when the agent cannot be reached or refused. */
static unsigned char *ask(char op, const unsigned char *in, unsigned long inlen, unsigned long *outlen)
{
	struct sockaddr_un addr;
	const char *path = socket_path();
	unsigned char hdr[5];
	unsigned char *out = NULL;
	struct timeval tv = {10, 0};
	uint32_t n;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		goto done;
	hdr[0] = (unsigned char)op;
	put32(hdr + 1, (uint32_t)inlen);
	if (write_all(fd, hdr, 5) != 0 || (inlen > 0 && write_all(fd, in, inlen) != 0))
		goto done;
	if (read_all(fd, hdr, 5) != 0)
		goto done;
	n = get32(hdr + 1);
	if (hdr[0] != 0 || n > 16 * MAX_FIELD)
		goto done;
	out = malloc(n ? n : 1);
	if (!out)
		goto done;
	if (n > 0 && read_all(fd, out, n) != 0) {
		free(out);
		out = NULL;
		goto done;
	}
	*outlen = n;
done:
	close(fd);
	return out;
}

static void forget_identity(void)
{
	for (int i = 0; i < NFIELDS; i++) {
		free(fields[i].p);
		fields[i].p = NULL;
		fields[i].n = 0;
	}
	have_identity = 0;
}

/* refresh reads the certificate from the agent, at most every
 * CACHE_SECONDS, so a renewed certificate reaches a running browser.
 * Called with mu held. */
static void refresh(void)
{
	unsigned long n = 0, off = 0;
	unsigned char *b;
	struct blob got[NFIELDS];
	time_t now = time(NULL);

	if (have_identity && now - fetched < CACHE_SECONDS)
		return;
	b = ask('C', NULL, 0, &n);
	if (!b) {
		forget_identity();
		return;
	}
	memset(got, 0, sizeof(got));
	for (int i = 0; i < NFIELDS; i++) {
		uint32_t l;
		if (n - off < 4)
			goto bad;
		l = get32(b + off);
		off += 4;
		if (l > MAX_FIELD || n - off < l)
			goto bad;
		got[i].p = malloc(l ? l : 1);
		if (!got[i].p)
			goto bad;
		memcpy(got[i].p, b + off, l);
		got[i].n = l;
		off += l;
	}
	free(b);
	forget_identity();
	memcpy(fields, got, sizeof(fields));
	have_identity = 1;
	fetched = now;
	return;
bad:
	for (int i = 0; i < NFIELDS; i++)
		free(got[i].p);
	free(b);
	forget_identity();
}

static struct session *get_session(ck_session_handle_t h)
{
	if (h < 1 || h > MAX_SESSIONS || !sessions[h - 1].open)
		return NULL;
	return &sessions[h - 1];
}

static void pad(unsigned char *dst, size_t n, const char *s)
{
	size_t l = strlen(s);
	memset(dst, ' ', n);
	memcpy(dst, s, l < n ? l : n);
}

/* Attributes. */

static const unsigned char yes = 1, no = 0;

struct value {
	const void *p;
	unsigned long n;
};

/* attr returns an object's attribute; n == CK_UNAVAILABLE_INFORMATION
 * when the object has none. */
static struct value attr(ck_object_handle_t obj, ck_attribute_type_t type)
{
	static const ck_object_class_t cert = CKO_CERTIFICATE, priv = CKO_PRIVATE_KEY, pub = CKO_PUBLIC_KEY;
	static const ck_certificate_type_t x509 = CKC_X_509;
	static const ck_key_type_t ec = CKK_EC;
	static const unsigned long category_token_user = 1;
	struct value none = {NULL, CK_UNAVAILABLE_INFORMATION};
#define V(ptr, len) \
	do { struct value v_ = {(ptr), (len)}; return v_; } while (0)
#define FIELD(f) V(fields[f].p, fields[f].n)
#define BOOL(b) V((b) ? &yes : &no, sizeof(unsigned char))

	switch (type) {
	case CKA_TOKEN:
		BOOL(1);
	case CKA_MODIFIABLE:
	case CKA_COPYABLE:
	case CKA_DESTROYABLE:
		BOOL(0);
	case CKA_ID:
		FIELD(F_ID);
	case CKA_LABEL:
		FIELD(F_LABEL);
	}
	switch (obj) {
	case OBJ_CERT:
		switch (type) {
		case CKA_CLASS: V(&cert, sizeof(cert));
		case CKA_PRIVATE: BOOL(0);
		case CKA_TRUSTED: BOOL(0);
		case CKA_CERTIFICATE_TYPE: V(&x509, sizeof(x509));
		case CKA_CERTIFICATE_CATEGORY: V(&category_token_user, sizeof(category_token_user));
		case CKA_VALUE: FIELD(F_CERT);
		case CKA_SUBJECT: FIELD(F_SUBJECT);
		case CKA_ISSUER: FIELD(F_ISSUER);
		case CKA_SERIAL_NUMBER: FIELD(F_SERIAL);
		}
		break;
	case OBJ_PRIV:
		switch (type) {
		case CKA_CLASS: V(&priv, sizeof(priv));
		case CKA_KEY_TYPE: V(&ec, sizeof(ec));
		case CKA_PRIVATE:
		case CKA_SIGN:
		case CKA_SENSITIVE:
		case CKA_ALWAYS_SENSITIVE:
		case CKA_NEVER_EXTRACTABLE:
		case CKA_LOCAL:
			BOOL(1);
		case CKA_EXTRACTABLE:
		case CKA_DECRYPT:
		case CKA_UNWRAP:
		case CKA_SIGN_RECOVER:
		case CKA_DERIVE:
		case CKA_ALWAYS_AUTHENTICATE:
		case CKA_WRAP_WITH_TRUSTED:
			BOOL(0);
		case CKA_SUBJECT: FIELD(F_SUBJECT);
		case CKA_EC_PARAMS: FIELD(F_PARAMS);
		}
		break;
	case OBJ_PUB:
		switch (type) {
		case CKA_CLASS: V(&pub, sizeof(pub));
		case CKA_KEY_TYPE: V(&ec, sizeof(ec));
		case CKA_PRIVATE: BOOL(0);
		case CKA_VERIFY: BOOL(1);
		case CKA_ENCRYPT:
		case CKA_WRAP:
		case CKA_VERIFY_RECOVER:
		case CKA_DERIVE:
			BOOL(0);
		case CKA_SUBJECT: FIELD(F_SUBJECT);
		case CKA_EC_PARAMS: FIELD(F_PARAMS);
		case CKA_EC_POINT: FIELD(F_POINT);
		}
		break;
	}
	return none;
#undef V
#undef FIELD
#undef BOOL
}

static int matches(ck_object_handle_t obj, struct ck_attribute *templ, unsigned long count)
{
	for (unsigned long i = 0; i < count; i++) {
		struct value v = attr(obj, templ[i].type);
		if (v.n == CK_UNAVAILABLE_INFORMATION || v.n != templ[i].value_len ||
		    (v.n > 0 && (!templ[i].value || memcmp(v.p, templ[i].value, v.n) != 0)))
			return 0;
	}
	return 1;
}

/* General. */

ck_rv_t C_Initialize(void *args)
{
	(void)args; /* One global mutex: safe with or without the OS's locking. */
	pthread_mutex_lock(&mu);
	if (initialized) {
		pthread_mutex_unlock(&mu);
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	}
	initialized = 1;
	memset(sessions, 0, sizeof(sessions));
	pthread_mutex_unlock(&mu);
	return CKR_OK;
}

ck_rv_t C_Finalize(void *reserved)
{
	(void)reserved;
	pthread_mutex_lock(&mu);
	if (!initialized) {
		pthread_mutex_unlock(&mu);
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	}
	initialized = 0;
	forget_identity();
	pthread_mutex_unlock(&mu);
	return CKR_OK;
}

ck_rv_t C_GetInfo(struct ck_info *info)
{
	if (!info)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	info->cryptoki_version.major = CRYPTOKI_VERSION_MAJOR;
	info->cryptoki_version.minor = CRYPTOKI_VERSION_MINOR;
	pad(info->manufacturer_id, sizeof(info->manufacturer_id), "Postern");
	pad(info->library_description, sizeof(info->library_description), "Postern device key (TPM)");
	info->library_version.major = 1;
	return CKR_OK;
}

ck_rv_t C_GetSlotList(unsigned char token_present, ck_slot_id_t *list, unsigned long *count)
{
	(void)token_present;
	if (!count)
		return CKR_ARGUMENTS_BAD;
	if (!initialized)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (list) {
		if (*count < 1) {
			*count = 1;
			return CKR_BUFFER_TOO_SMALL;
		}
		list[0] = SLOT_ID;
	}
	*count = 1;
	return CKR_OK;
}

ck_rv_t C_GetSlotInfo(ck_slot_id_t slot, struct ck_slot_info *info)
{
	if (slot != SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	pad(info->slot_description, sizeof(info->slot_description), "Postern agent");
	pad(info->manufacturer_id, sizeof(info->manufacturer_id), "Postern");
	info->flags = CKF_TOKEN_PRESENT | CKF_HW_SLOT;
	return CKR_OK;
}

ck_rv_t C_GetTokenInfo(ck_slot_id_t slot, struct ck_token_info *info)
{
	if (slot != SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	pad(info->label, sizeof(info->label), "Postern device key");
	pad(info->manufacturer_id, sizeof(info->manufacturer_id), "Postern");
	pad(info->model, sizeof(info->model), "TPM 2.0");
	pad(info->serial_number, sizeof(info->serial_number), "1");
	/* No CKF_LOGIN_REQUIRED: the agent decides who may sign. */
	info->flags = CKF_WRITE_PROTECTED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED;
	info->max_session_count = MAX_SESSIONS;
	info->max_rw_session_count = 0;
	info->total_public_memory = info->free_public_memory = CK_UNAVAILABLE_INFORMATION;
	info->total_private_memory = info->free_private_memory = CK_UNAVAILABLE_INFORMATION;
	info->hardware_version.major = 1;
	info->firmware_version.major = 1;
	return CKR_OK;
}

ck_rv_t C_GetMechanismList(ck_slot_id_t slot, ck_mechanism_type_t *list, unsigned long *count)
{
	if (slot != SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	if (!count)
		return CKR_ARGUMENTS_BAD;
	if (list) {
		if (*count < 1) {
			*count = 1;
			return CKR_BUFFER_TOO_SMALL;
		}
		list[0] = CKM_ECDSA;
	}
	*count = 1;
	return CKR_OK;
}

ck_rv_t C_GetMechanismInfo(ck_slot_id_t slot, ck_mechanism_type_t type, struct ck_mechanism_info *info)
{
	if (slot != SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	if (type != CKM_ECDSA)
		return CKR_MECHANISM_INVALID;
	info->min_key_size = 256;
	info->max_key_size = 256;
	info->flags = CKF_HW | CKF_SIGN | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
	return CKR_OK;
}

/* Sessions. */

ck_rv_t C_OpenSession(ck_slot_id_t slot, ck_flags_t flags, void *app, ck_notify_t notify, ck_session_handle_t *h)
{
	(void)app;
	(void)notify;
	if (slot != SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	if (!h)
		return CKR_ARGUMENTS_BAD;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	if (flags & CKF_RW_SESSION)
		return CKR_TOKEN_WRITE_PROTECTED;
	pthread_mutex_lock(&mu);
	for (int i = 0; i < MAX_SESSIONS; i++) {
		if (!sessions[i].open) {
			memset(&sessions[i], 0, sizeof(sessions[i]));
			sessions[i].open = 1;
			*h = (ck_session_handle_t)i + 1;
			pthread_mutex_unlock(&mu);
			return CKR_OK;
		}
	}
	pthread_mutex_unlock(&mu);
	return CKR_SESSION_COUNT;
}

ck_rv_t C_CloseSession(ck_session_handle_t h)
{
	struct session *s;
	pthread_mutex_lock(&mu);
	s = get_session(h);
	if (s)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&mu);
	return s ? CKR_OK : CKR_SESSION_HANDLE_INVALID;
}

ck_rv_t C_CloseAllSessions(ck_slot_id_t slot)
{
	if (slot != SLOT_ID)
		return CKR_SLOT_ID_INVALID;
	pthread_mutex_lock(&mu);
	memset(sessions, 0, sizeof(sessions));
	pthread_mutex_unlock(&mu);
	return CKR_OK;
}

ck_rv_t C_GetSessionInfo(ck_session_handle_t h, struct ck_session_info *info)
{
	struct session *s;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&mu);
	s = get_session(h);
	pthread_mutex_unlock(&mu);
	if (!s)
		return CKR_SESSION_HANDLE_INVALID;
	memset(info, 0, sizeof(*info));
	info->slot_id = SLOT_ID;
	info->state = CKS_RO_USER_FUNCTIONS;
	info->flags = CKF_SERIAL_SESSION;
	return CKR_OK;
}

ck_rv_t C_Login(ck_session_handle_t h, ck_user_type_t type, unsigned char *pin, unsigned long len)
{
	(void)h;
	(void)type;
	(void)pin;
	(void)len;
	return CKR_USER_ALREADY_LOGGED_IN;
}

ck_rv_t C_Logout(ck_session_handle_t h)
{
	(void)h;
	return CKR_OK;
}

/* Objects. */

ck_rv_t C_GetAttributeValue(ck_session_handle_t h, ck_object_handle_t obj, struct ck_attribute *templ, unsigned long count)
{
	ck_rv_t rv = CKR_OK;
	pthread_mutex_lock(&mu);
	if (!get_session(h)) {
		pthread_mutex_unlock(&mu);
		return CKR_SESSION_HANDLE_INVALID;
	}
	if (obj < 1 || obj > NOBJ || !have_identity) {
		pthread_mutex_unlock(&mu);
		return CKR_OBJECT_HANDLE_INVALID;
	}
	for (unsigned long i = 0; i < count; i++) {
		struct value v = attr(obj, templ[i].type);
		if (v.n == CK_UNAVAILABLE_INFORMATION) {
			templ[i].value_len = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (!templ[i].value) {
			templ[i].value_len = v.n;
		} else if (templ[i].value_len < v.n) {
			templ[i].value_len = CK_UNAVAILABLE_INFORMATION;
			if (rv == CKR_OK)
				rv = CKR_BUFFER_TOO_SMALL;
		} else {
			memcpy(templ[i].value, v.p, v.n);
			templ[i].value_len = v.n;
		}
	}
	pthread_mutex_unlock(&mu);
	return rv;
}

ck_rv_t C_FindObjectsInit(ck_session_handle_t h, struct ck_attribute *templ, unsigned long count)
{
	struct session *s;
	pthread_mutex_lock(&mu);
	s = get_session(h);
	if (!s) {
		pthread_mutex_unlock(&mu);
		return CKR_SESSION_HANDLE_INVALID;
	}
	if (s->finding) {
		pthread_mutex_unlock(&mu);
		return CKR_OPERATION_ACTIVE;
	}
	refresh();
	s->finding = 1;
	s->nfound = s->next = 0;
	if (have_identity) {
		for (ck_object_handle_t o = 1; o <= NOBJ; o++) {
			if (matches(o, templ, count))
				s->found[s->nfound++] = o;
		}
	}
	pthread_mutex_unlock(&mu);
	return CKR_OK;
}

ck_rv_t C_FindObjects(ck_session_handle_t h, ck_object_handle_t *objs, unsigned long max, unsigned long *count)
{
	struct session *s;
	if (!objs || !count)
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&mu);
	s = get_session(h);
	if (!s || !s->finding) {
		pthread_mutex_unlock(&mu);
		return s ? CKR_OPERATION_NOT_INITIALIZED : CKR_SESSION_HANDLE_INVALID;
	}
	*count = 0;
	while (*count < max && s->next < s->nfound)
		objs[(*count)++] = s->found[s->next++];
	pthread_mutex_unlock(&mu);
	return CKR_OK;
}

ck_rv_t C_FindObjectsFinal(ck_session_handle_t h)
{
	struct session *s;
	pthread_mutex_lock(&mu);
	s = get_session(h);
	if (s)
		s->finding = 0;
	pthread_mutex_unlock(&mu);
	return s ? CKR_OK : CKR_SESSION_HANDLE_INVALID;
}

/* Signing. */

ck_rv_t C_SignInit(ck_session_handle_t h, struct ck_mechanism *mech, ck_object_handle_t key)
{
	struct session *s;
	if (!mech)
		return CKR_ARGUMENTS_BAD;
	if (mech->mechanism != CKM_ECDSA)
		return CKR_MECHANISM_INVALID;
	if (key != OBJ_PRIV)
		return CKR_KEY_HANDLE_INVALID;
	pthread_mutex_lock(&mu);
	s = get_session(h);
	if (s) {
		if (s->signing) {
			pthread_mutex_unlock(&mu);
			return CKR_OPERATION_ACTIVE;
		}
		s->signing = 1;
	}
	pthread_mutex_unlock(&mu);
	return s ? CKR_OK : CKR_SESSION_HANDLE_INVALID;
}

ck_rv_t C_Sign(ck_session_handle_t h, unsigned char *data, unsigned long len, unsigned char *sig, unsigned long *siglen)
{
	struct session *s;
	unsigned char *out;
	unsigned long n = 0;
	const unsigned long want = 64; /* P-256: r||s */

	if (!siglen || (!data && len > 0))
		return CKR_ARGUMENTS_BAD;
	pthread_mutex_lock(&mu);
	s = get_session(h);
	if (!s || !s->signing) {
		pthread_mutex_unlock(&mu);
		return s ? CKR_OPERATION_NOT_INITIALIZED : CKR_SESSION_HANDLE_INVALID;
	}
	if (!sig) {
		*siglen = want;
		pthread_mutex_unlock(&mu);
		return CKR_OK;
	}
	if (*siglen < want) {
		*siglen = want;
		pthread_mutex_unlock(&mu);
		return CKR_BUFFER_TOO_SMALL;
	}
	s->signing = 0;
	pthread_mutex_unlock(&mu);
	if (len == 0 || len > 64)
		return CKR_DATA_LEN_RANGE;
	out = ask('S', data, len, &n);
	if (!out)
		return CKR_DEVICE_ERROR;
	if (n != want) {
		free(out);
		return CKR_DEVICE_ERROR;
	}
	memcpy(sig, out, n);
	*siglen = n;
	free(out);
	return CKR_OK;
}

/* Not supported. */

#define NOTSUP(name, args) \
	ck_rv_t name args { return CKR_FUNCTION_NOT_SUPPORTED; }

NOTSUP(C_WaitForSlotEvent, (ck_flags_t a, ck_slot_id_t *b, void *c))
NOTSUP(C_InitToken, (ck_slot_id_t a, unsigned char *b, unsigned long c, unsigned char *d))
NOTSUP(C_InitPIN, (ck_session_handle_t a, unsigned char *b, unsigned long c))
NOTSUP(C_SetPIN, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long e))
NOTSUP(C_GetOperationState, (ck_session_handle_t a, unsigned char *b, unsigned long *c))
NOTSUP(C_SetOperationState, (ck_session_handle_t a, unsigned char *b, unsigned long c, ck_object_handle_t d, ck_object_handle_t e))
NOTSUP(C_CreateObject, (ck_session_handle_t a, struct ck_attribute *b, unsigned long c, ck_object_handle_t *d))
NOTSUP(C_CopyObject, (ck_session_handle_t a, ck_object_handle_t b, struct ck_attribute *c, unsigned long d, ck_object_handle_t *e))
NOTSUP(C_DestroyObject, (ck_session_handle_t a, ck_object_handle_t b))
NOTSUP(C_GetObjectSize, (ck_session_handle_t a, ck_object_handle_t b, unsigned long *c))
NOTSUP(C_SetAttributeValue, (ck_session_handle_t a, ck_object_handle_t b, struct ck_attribute *c, unsigned long d))
NOTSUP(C_EncryptInit, (ck_session_handle_t a, struct ck_mechanism *b, ck_object_handle_t c))
NOTSUP(C_Encrypt, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_EncryptUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_EncryptFinal, (ck_session_handle_t a, unsigned char *b, unsigned long *c))
NOTSUP(C_DecryptInit, (ck_session_handle_t a, struct ck_mechanism *b, ck_object_handle_t c))
NOTSUP(C_Decrypt, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_DecryptUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_DecryptFinal, (ck_session_handle_t a, unsigned char *b, unsigned long *c))
NOTSUP(C_DigestInit, (ck_session_handle_t a, struct ck_mechanism *b))
NOTSUP(C_Digest, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_DigestUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c))
NOTSUP(C_DigestKey, (ck_session_handle_t a, ck_object_handle_t b))
NOTSUP(C_DigestFinal, (ck_session_handle_t a, unsigned char *b, unsigned long *c))
NOTSUP(C_SignUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c))
NOTSUP(C_SignFinal, (ck_session_handle_t a, unsigned char *b, unsigned long *c))
NOTSUP(C_SignRecoverInit, (ck_session_handle_t a, struct ck_mechanism *b, ck_object_handle_t c))
NOTSUP(C_SignRecover, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_VerifyInit, (ck_session_handle_t a, struct ck_mechanism *b, ck_object_handle_t c))
NOTSUP(C_Verify, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long e))
NOTSUP(C_VerifyUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c))
NOTSUP(C_VerifyFinal, (ck_session_handle_t a, unsigned char *b, unsigned long c))
NOTSUP(C_VerifyRecoverInit, (ck_session_handle_t a, struct ck_mechanism *b, ck_object_handle_t c))
NOTSUP(C_VerifyRecover, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_DigestEncryptUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_DecryptDigestUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_SignEncryptUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_DecryptVerifyUpdate, (ck_session_handle_t a, unsigned char *b, unsigned long c, unsigned char *d, unsigned long *e))
NOTSUP(C_GenerateKey, (ck_session_handle_t a, struct ck_mechanism *b, struct ck_attribute *c, unsigned long d, ck_object_handle_t *e))
NOTSUP(C_GenerateKeyPair, (ck_session_handle_t a, struct ck_mechanism *b, struct ck_attribute *c, unsigned long d, struct ck_attribute *e, unsigned long f, ck_object_handle_t *g, ck_object_handle_t *h))
NOTSUP(C_WrapKey, (ck_session_handle_t a, struct ck_mechanism *b, ck_object_handle_t c, ck_object_handle_t d, unsigned char *e, unsigned long *f))
NOTSUP(C_UnwrapKey, (ck_session_handle_t a, struct ck_mechanism *b, ck_object_handle_t c, unsigned char *d, unsigned long e, struct ck_attribute *f, unsigned long g, ck_object_handle_t *h))
NOTSUP(C_DeriveKey, (ck_session_handle_t a, struct ck_mechanism *b, ck_object_handle_t c, struct ck_attribute *d, unsigned long e, ck_object_handle_t *f))
NOTSUP(C_SeedRandom, (ck_session_handle_t a, unsigned char *b, unsigned long c))
NOTSUP(C_GenerateRandom, (ck_session_handle_t a, unsigned char *b, unsigned long c))
NOTSUP(C_GetFunctionStatus, (ck_session_handle_t a))
NOTSUP(C_CancelFunction, (ck_session_handle_t a))

static struct ck_function_list functions = {
	{CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
	C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList,
	C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo,
	C_InitToken, C_InitPIN, C_SetPIN,
	C_OpenSession, C_CloseSession, C_CloseAllSessions, C_GetSessionInfo,
	C_GetOperationState, C_SetOperationState, C_Login, C_Logout,
	C_CreateObject, C_CopyObject, C_DestroyObject, C_GetObjectSize,
	C_GetAttributeValue, C_SetAttributeValue, C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal,
	C_EncryptInit, C_Encrypt, C_EncryptUpdate, C_EncryptFinal,
	C_DecryptInit, C_Decrypt, C_DecryptUpdate, C_DecryptFinal,
	C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal,
	C_SignInit, C_Sign, C_SignUpdate, C_SignFinal, C_SignRecoverInit, C_SignRecover,
	C_VerifyInit, C_Verify, C_VerifyUpdate, C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover,
	C_DigestEncryptUpdate, C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate,
	C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey,
	C_SeedRandom, C_GenerateRandom, C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent,
};

ck_rv_t C_GetFunctionList(struct ck_function_list **list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	*list = &functions;
	return CKR_OK;
}
