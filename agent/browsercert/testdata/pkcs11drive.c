/*
 * pkcs11drive loads the PKCS#11 module given as its argument and does
 * what a browser does with it: find every object, read the attributes
 * NSS reads (into a large buffer, with no buffer and into one too
 * small), sign a digest. It prints what it got; the test built it and
 * the module with AddressSanitizer, which reports any out-of-bounds
 * access the agent's answers caused.
 */
#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 17];
	struct ck_function_list *f;
	ck_rv_t (*list)(struct ck_function_list **);
	ck_session_handle_t s = 0;
	ck_object_handle_t objs[8];
	unsigned long n = 0;
	static const ck_attribute_type_t types[] = {CKA_CLASS, CKA_VALUE, CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER,
		CKA_ID, CKA_LABEL, CKA_EC_PARAMS, CKA_EC_POINT};
	void *h;

	if (argc != 2)
		return 2;
	h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	list = (ck_rv_t (*)(struct ck_function_list **))dlsym(h, "C_GetFunctionList");
	if (!list || list(&f) != CKR_OK || f->C_Initialize(NULL) != CKR_OK)
		return 2;
	if (f->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		return 2;
	f->C_FindObjectsInit(s, NULL, 0);
	f->C_FindObjects(s, objs, 8, &n);
	f->C_FindObjectsFinal(s);
	printf("objects %lu\n", n);
	for (unsigned long i = 0; i < n; i++) {
		for (unsigned long t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			struct ck_attribute big = {types[t], buf, sizeof(buf)}, none = {types[t], NULL, 0}, small = {types[t], buf, 1};
			f->C_GetAttributeValue(s, objs[i], &big, 1);
			f->C_GetAttributeValue(s, objs[i], &none, 1);
			f->C_GetAttributeValue(s, objs[i], &small, 1);
		}
	}
	{
		struct ck_mechanism m = {CKM_ECDSA, NULL, 0};
		unsigned char digest[32] = {1}, sig[64];
		unsigned long siglen = sizeof(sig);
		ck_rv_t rv;
		f->C_SignInit(s, &m, 2);
		rv = f->C_Sign(s, digest, sizeof(digest), sig, &siglen);
		printf("sign %s\n", rv == CKR_OK ? "ok" : "refused");
	}
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	return 0;
}
