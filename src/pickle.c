/* pickle.c - a small pickle virtual machine: a value stack, a mark stack and
 * a memo, with only the constructors a state dict needs. */
#include "pickle.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

#define PK_MAX_STACK 100000
#define PK_MAX_MEMO (1 << 24)

typedef struct vm {
    const uint8_t *d;
    size_t n, pos;
    pk_result *res;
    pk_value **stack;
    int sp, cap;
    int *marks;
    int n_marks, cap_marks;
    pk_value **memo;
    int64_t cap_memo;
    int64_t memo_len;            /* distinct entries, the index MEMOIZE uses */
} vm;

static pk_value *new_value(vm *v, pk_kind kind) {
    pk_result *r = v->res;
    if (r->n_all == r->cap_all) {
        int cap = r->cap_all ? 2 * r->cap_all : 256;
        pk_value **a = realloc(r->all, sizeof *a * (size_t)cap);
        if (!a) return NULL;
        r->all = a, r->cap_all = cap;
    }
    pk_value *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->kind = kind;
    r->all[r->n_all++] = x;
    return x;
}

static int add_item(pk_value *c, pk_value *item) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        pk_value **a = realloc(c->items, sizeof *a * (size_t)cap);
        if (!a) return -1;
        c->items = a, c->cap = cap;
    }
    c->items[c->n++] = item;
    return 0;
}

static int push(vm *v, pk_value *x) {
    if (!x) return -1;
    if (v->sp == v->cap) {
        if (v->cap >= PK_MAX_STACK) return -1;
        int cap = v->cap ? 2 * v->cap : 64;
        pk_value **a = realloc(v->stack, sizeof *a * (size_t)cap);
        if (!a) return -1;
        v->stack = a, v->cap = cap;
    }
    v->stack[v->sp++] = x;
    return 0;
}

static const char *opname(uint8_t op) {
    switch (op) {
    case 0x80: return "PROTO"; case '}': return "EMPTY_DICT"; case ')': return "EMPTY_TUPLE";
    case ']': return "EMPTY_LIST"; case '(': return "MARK"; case 't': return "TUPLE";
    case 0x85: return "TUPLE1"; case 0x86: return "TUPLE2"; case 0x87: return "TUPLE3";
    case 'X': return "BINUNICODE"; case 0x8c: return "SHORT_BINUNICODE"; case 0x8d: return "BINUNICODE8";
    case 'J': return "BININT"; case 'K': return "BININT1"; case 'M': return "BININT2";
    case 0x8a: return "LONG1"; case 0x88: return "NEWTRUE"; case 0x89: return "NEWFALSE";
    case 'N': return "NONE"; case 'G': return "BINFLOAT"; case 'c': return "GLOBAL";
    case 'R': return "REDUCE"; case 'b': return "BUILD"; case 'Q': return "BINPERSID";
    case 's': return "SETITEM"; case 'u': return "SETITEMS"; case 'a': return "APPEND";
    case 'e': return "APPENDS"; case 'q': return "BINPUT"; case 'r': return "LONG_BINPUT";
    case 'h': return "BINGET"; case 'j': return "LONG_BINGET"; case 0x94: return "MEMOIZE";
    case '.': return "STOP"; case 0x95: return "FRAME";
    case 'I': return "INT"; case 'L': return "LONG"; case 'V': return "UNICODE"; case 'S': return "STRING";
    case 'T': return "BINSTRING"; case 'U': return "SHORT_BINSTRING"; case 'p': return "PUT";
    case 'g': return "GET"; case 'o': return "OBJ"; case 'i': return "INST"; case 0x81: return "NEWOBJ";
    case 0x93: return "STACK_GLOBAL"; case 'P': return "PERSID"; case 'F': return "FLOAT";
    case 'B': return "BINBYTES"; case 'C': return "SHORT_BINBYTES"; case '0': return "POP";
    case '1': return "POP_MARK"; case '2': return "DUP"; case 0x8b: return "LONG4";
    default: return "unknown";
    }
}

/* Reads k bytes at the cursor (NULL if the pickle ends first). */
static const uint8_t *take(vm *v, size_t k) {
    if (v->n - v->pos < k) return NULL;
    const uint8_t *p = v->d + v->pos;
    v->pos += k;
    return p;
}

static uint64_t le(const uint8_t *p, int k) {
    uint64_t x = 0;
    for (int i = k - 1; i >= 0; i--) x = x << 8 | p[i];
    return x;
}

static pk_value *new_str(vm *v, const uint8_t *p, size_t len) {
    pk_value *x = new_value(v, PK_STR);
    if (!x || !(x->s = malloc(len + 1))) return NULL;
    memcpy(x->s, p, len);
    x->s[len] = 0;
    return x;
}

static int pop_mark(vm *v) {
    if (!v->n_marks) return -1;
    return v->marks[--v->n_marks];
}

static int memo_put(vm *v, int64_t idx) {
    if (idx < 0 || idx >= PK_MAX_MEMO || v->sp == 0) return -1;
    if (idx >= v->cap_memo) {
        int64_t cap = v->cap_memo ? v->cap_memo : 256;
        while (cap <= idx) cap *= 2;
        pk_value **m = realloc(v->memo, sizeof *m * (size_t)cap);
        if (!m) return -1;
        memset(m + v->cap_memo, 0, sizeof *m * (size_t)(cap - v->cap_memo));
        v->memo = m, v->cap_memo = cap;
    }
    if (!v->memo[idx]) v->memo_len++;
    v->memo[idx] = v->stack[v->sp - 1];
    return 0;
}

static int is_global(const pk_value *x, const char *name) {
    return x && x->kind == PK_GLOBAL && strcmp(x->s, name) == 0;
}

/* ('storage', torch.XStorage, key, location, numel) -> STORAGE */
static sam2_status persistent_load(vm *v, pk_value *pid, size_t at) {
    if (pid->kind != PK_TUPLE || pid->n < 5 || pid->items[0]->kind != PK_STR ||
        strcmp(pid->items[0]->s, "storage") != 0 || pid->items[1]->kind != PK_GLOBAL ||
        pid->items[2]->kind != PK_STR || pid->items[4]->kind != PK_INT)
        return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: unexpected persistent id at offset %zu", at);
    pk_value *s = new_value(v, PK_STORAGE);
    if (!s) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
    const char *type = pid->items[1]->s;
    if (!strcmp(type, "torch.FloatStorage")) s->dtype = PK_F32;
    else if (!strcmp(type, "torch.HalfStorage")) s->dtype = PK_F16;
    else if (!strcmp(type, "torch.BFloat16Storage")) s->dtype = PK_BF16;
    else return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "pickle: unsupported storage type '%s' (float32, float16 and bfloat16 are read)", type);
    s->s = strdup(pid->items[2]->s);
    s->numel = pid->items[4]->i;
    if (!s->s || s->numel < 0) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: bad storage record at offset %zu", at);
    v->sp--;
    push(v, s);
    return SAM2_OK;
}

/* Applies a callable to an argument tuple: OrderedDict(), _rebuild_tensor_v2
 * and _rebuild_parameter are the only constructors a state dict uses. */
static sam2_status reduce(vm *v, pk_value *fn, pk_value *args, size_t at) {
    if (args->kind != PK_TUPLE) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: REDUCE without an argument tuple at offset %zu", at);
    pk_value *r = NULL;
    if (is_global(fn, "collections.OrderedDict")) {
        r = new_value(v, PK_DICT);
    } else if (is_global(fn, "torch._utils._rebuild_tensor_v2")) {
        if (args->n < 4 || args->items[0]->kind != PK_STORAGE || args->items[1]->kind != PK_INT ||
            args->items[2]->kind != PK_TUPLE || args->items[3]->kind != PK_TUPLE ||
            args->items[2]->n != args->items[3]->n || args->items[2]->n > PK_MAX_DIMS)
            return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: malformed tensor record at offset %zu", at);
        r = new_value(v, PK_TENSOR);
        if (!r) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
        r->storage = args->items[0];
        r->offset = args->items[1]->i;
        r->ndim = args->items[2]->n;
        for (int d = 0; d < r->ndim; d++) {
            const pk_value *sz = args->items[2]->items[d], *st = args->items[3]->items[d];
            if (sz->kind != PK_INT || st->kind != PK_INT || sz->i < 0 || st->i < 0)
                return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: bad tensor size/stride at offset %zu", at);
            r->size[d] = sz->i, r->stride[d] = st->i;
        }
    } else if (is_global(fn, "torch._utils._rebuild_parameter")) {
        if (args->n < 1 || args->items[0]->kind != PK_TENSOR)
            return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: malformed parameter record at offset %zu", at);
        r = args->items[0];
    } else {
        return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "pickle: cannot call '%s' (offset %zu)",
                         fn->kind == PK_GLOBAL ? fn->s : "a non-global", at);
    }
    if (!r) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
    v->sp -= 2;
    push(v, r);
    return SAM2_OK;
}

static const char *allowed_globals[] = {
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
    "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", NULL};

/* Runs one opcode. Returns SAM2_OK, or an error; *stop set on STOP. */
static sam2_status step(vm *v, int *stop) {
    size_t at = v->pos;
    const uint8_t *p = take(v, 1);
    if (!p) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: truncated (no STOP opcode) at offset %zu", at);
    uint8_t op = *p;
#define NEED(k) if (!(p = take(v, (k)))) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: truncated %s at offset %zu", opname(op), at)
#define STACK(k) if (v->sp < (k)) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: stack underflow in %s at offset %zu", opname(op), at)
#define PUSH(x) if (push(v, (x)) != 0) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: stack too deep or out of memory at offset %zu", at)
    pk_value *x;
    switch (op) {
    case 0x80: NEED(1); break;                       /* PROTO */
    case 0x95: NEED(8); break;                       /* FRAME: a hint only */
    case '}': PUSH(new_value(v, PK_DICT)); break;
    case ')': PUSH(new_value(v, PK_TUPLE)); break;
    case ']': PUSH(new_value(v, PK_LIST)); break;
    case 'N': PUSH(new_value(v, PK_NONE)); break;
    case 0x88: case 0x89:
        x = new_value(v, PK_BOOL);
        if (x) x->i = op == 0x88;
        PUSH(x);
        break;
    case 'J': case 'K': case 'M': {
        int k = op == 'J' ? 4 : op == 'K' ? 1 : 2;
        NEED(k);
        x = new_value(v, PK_INT);
        if (x) x->i = op == 'J' ? (int32_t)le(p, 4) : (int64_t)le(p, k);
        PUSH(x);
        break;
    }
    case 0x8a: {                                     /* LONG1 */
        NEED(1);
        int k = *p;
        if (k > 8) return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "pickle: integer of %d bytes at offset %zu", k, at);
        NEED(k);
        uint64_t u = k ? le(p, k) : 0;
        if (k && k < 8 && (p[k - 1] & 0x80)) u |= ~0ULL << (8 * k);
        x = new_value(v, PK_INT);
        if (x) x->i = (int64_t)u;
        PUSH(x);
        break;
    }
    case 'G': {                                      /* BINFLOAT, big-endian */
        NEED(8);
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | p[i];
        x = new_value(v, PK_FLOAT);
        if (x) memcpy(&x->f, &u, 8);
        PUSH(x);
        break;
    }
    case 'X': case 0x8c: case 0x8d: {
        int k = op == 'X' ? 4 : op == 0x8c ? 1 : 8;
        NEED(k);
        uint64_t len = le(p, k);
        if (len > v->n - v->pos) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: truncated string at offset %zu", at);
        p = take(v, (size_t)len);
        PUSH(new_str(v, p, (size_t)len));
        break;
    }
    case 'c': {                                      /* GLOBAL module\nname\n */
        const uint8_t *s = v->d + v->pos, *end = v->d + v->n;
        const uint8_t *nl1 = memchr(s, '\n', (size_t)(end - s));
        const uint8_t *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
        if (!nl2 || nl2 - s > 512) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: truncated GLOBAL at offset %zu", at);
        char name[520];
        size_t m = (size_t)(nl1 - s);
        memcpy(name, s, m);
        name[m] = '.';
        memcpy(name + m + 1, nl1 + 1, (size_t)(nl2 - nl1 - 1));
        name[m + 1 + (nl2 - nl1 - 1)] = 0;
        v->pos = (size_t)(nl2 + 1 - v->d);
        int ok = 0;
        for (int i = 0; allowed_globals[i]; i++) ok |= !strcmp(name, allowed_globals[i]);
        if (!ok) return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "pickle: unsupported global '%s' at offset %zu (not a plain state dict)", name, at);
        x = new_value(v, PK_GLOBAL);
        if (x && !(x->s = strdup(name))) x = NULL;
        PUSH(x);
        break;
    }
    case '(':
        if (v->n_marks == v->cap_marks) {
            int cap = v->cap_marks ? 2 * v->cap_marks : 16;
            if (cap > PK_MAX_STACK) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: too many marks at offset %zu", at);
            int *m = realloc(v->marks, sizeof *m * (size_t)cap);
            if (!m) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
            v->marks = m, v->cap_marks = cap;
        }
        v->marks[v->n_marks++] = v->sp;
        break;
    case 't': case 'e': case 'u': {                  /* TUPLE, APPENDS, SETITEMS */
        int m = pop_mark(v);
        if (m < 0 || m > v->sp) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: %s without MARK at offset %zu", opname(op), at);
        int cnt = v->sp - m;
        if (op == 't') {
            x = new_value(v, PK_TUPLE);
            if (!x) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
            for (int i = 0; i < cnt; i++)
                if (add_item(x, v->stack[m + i]) != 0) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
            v->sp = m;
            PUSH(x);
            break;
        }
        if (m < 1) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: %s without a target at offset %zu", opname(op), at);
        pk_value *c = v->stack[m - 1];
        if ((op == 'e' && c->kind != PK_LIST) || (op == 'u' && (c->kind != PK_DICT || cnt % 2)))
            return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: %s on a wrong target at offset %zu", opname(op), at);
        for (int i = 0; i < cnt; i++)
            if (add_item(c, v->stack[m + i]) != 0) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
        v->sp = m;
        break;
    }
    case 0x85: case 0x86: case 0x87: {
        int cnt = op - 0x84;
        STACK(cnt);
        x = new_value(v, PK_TUPLE);
        if (!x) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
        for (int i = 0; i < cnt; i++)
            if (add_item(x, v->stack[v->sp - cnt + i]) != 0) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
        v->sp -= cnt;
        PUSH(x);
        break;
    }
    case 's':                                        /* SETITEM */
        STACK(3);
        if (v->stack[v->sp - 3]->kind != PK_DICT) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: SETITEM on a non-dict at offset %zu", at);
        if (add_item(v->stack[v->sp - 3], v->stack[v->sp - 2]) || add_item(v->stack[v->sp - 3], v->stack[v->sp - 1]))
            return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
        v->sp -= 2;
        break;
    case 'a':                                        /* APPEND */
        STACK(2);
        if (v->stack[v->sp - 2]->kind != PK_LIST) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: APPEND on a non-list at offset %zu", at);
        if (add_item(v->stack[v->sp - 2], v->stack[v->sp - 1])) return SAM2_FAIL(SAM2_ERR_NOMEM, "pickle: out of memory");
        v->sp--;
        break;
    case 'q': case 'r': {
        int k = op == 'q' ? 1 : 4;
        NEED(k);
        if (memo_put(v, (int64_t)le(p, k)) != 0) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: bad %s at offset %zu", opname(op), at);
        break;
    }
    case 0x94:                                       /* MEMOIZE */
        if (memo_put(v, v->memo_len) != 0) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: bad MEMOIZE at offset %zu", at);
        break;
    case 'h': case 'j': {
        int k = op == 'h' ? 1 : 4;
        NEED(k);
        int64_t idx = (int64_t)le(p, k);
        if (idx >= v->cap_memo || !v->memo[idx]) return SAM2_FAIL(SAM2_ERR_FORMAT, "pickle: %s of unset memo %lld at offset %zu", opname(op), (long long)idx, at);
        PUSH(v->memo[idx]);
        break;
    }
    case 'Q':                                        /* BINPERSID */
        STACK(1);
        return persistent_load(v, v->stack[v->sp - 1], at);
    case 'R':
        STACK(2);
        return reduce(v, v->stack[v->sp - 2], v->stack[v->sp - 1], at);
    case 'b':                                        /* BUILD: state (e.g. _metadata) is dropped */
        STACK(2);
        v->sp--;
        break;
    case '.':
        STACK(1);
        *stop = 1;
        break;
    default:
        return SAM2_FAIL(SAM2_ERR_UNSUPPORTED, "unsupported pickle opcode 0x%02x ('%s') at offset %zu", op, opname(op), at);
    }
#undef NEED
#undef STACK
#undef PUSH
    return SAM2_OK;
}

sam2_status pickle_load(const uint8_t *data, size_t size, pk_result *out) {
    memset(out, 0, sizeof *out);
    vm v = {data, size, 0, out, NULL, 0, 0, NULL, 0, 0, NULL, 0, 0};
    int stop = 0;
    sam2_status st = SAM2_OK;
    while (!stop && st == SAM2_OK) st = step(&v, &stop);
    if (st == SAM2_OK) out->root = v.stack[v.sp - 1];
    free(v.stack);
    free(v.marks);
    free(v.memo);
    if (st != SAM2_OK) pickle_free(out);
    return st;
}

void pickle_free(pk_result *r) {
    if (!r) return;
    for (int i = 0; i < r->n_all; i++) {
        free(r->all[i]->s);
        free(r->all[i]->items);
        free(r->all[i]);
    }
    free(r->all);
    memset(r, 0, sizeof *r);
}

const pk_value *pk_dict_get(const pk_value *dict, const char *key) {
    if (!dict || dict->kind != PK_DICT) return NULL;
    for (int i = 0; i + 1 < dict->n; i += 2)
        if (dict->items[i]->kind == PK_STR && !strcmp(dict->items[i]->s, key)) return dict->items[i + 1];
    return NULL;
}
