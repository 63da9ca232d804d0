/* csdsl._scanner: the `native` engine of csdsl.phrase_engines.
 *
 * An Aho-Corasick automaton over code points, built once from literal pieces, and a scan that
 * hands back every occurrence of every piece in a str (overlapping ones included) as one flat
 * list `last, value, last, value, ...` in the order of `last` (the index of the occurrence's
 * last code point), the longest piece first among those ending at one place: what the other
 * engines give, with no Python call and no tuple for each occurrence.
 *
 * The automaton: the trie's edges of each node sorted by code point in one array (a node's are
 * searched linearly when few, by bisection when many), the root's edges of the BMP also as a
 * table of 65,536 entries; each node's failure link and its output link (the nearest node on its
 * failure chain that ends a piece).  Read by any kind of str (1, 2 or 4 bytes a code point; lone
 * surrogates are code points like others).  The scan holds the GIL: it makes Python objects.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Py_UCS4 ch;
    int32_t to;
} Edge;

typedef struct {
    int32_t first;  /* index of the node's first edge in `edges` */
    int32_t count;  /* its number of edges */
    int32_t fail;   /* the failure link (the root's is 0, itself) */
    int32_t out;    /* the piece ending here (its index in `values`), or -1 */
    int32_t link;   /* the nearest node on the failure chain with a piece, or -1 */
} Node;

typedef struct {
    PyObject_HEAD
    Node *nodes;
    Edge *edges;
    int32_t *root;      /* the root's child for each BMP code point, 0 for none */
    PyObject *values;   /* tuple: the value reported for each piece */
    char *other;        /* for each piece: reported apart, as a (last, value) pair */
    int building;       /* __init__ is running (it calls Python code, which could re-enter) */
} Automaton;

/* ---- building: a trie with growable edge lists, then flattened ---- */

typedef struct {
    Edge *items;
    int32_t count;
    int32_t cap;
} EdgeList;

typedef struct {
    EdgeList *lists;  /* one per node */
    int32_t *out;
    Py_ssize_t count;
    Py_ssize_t cap;
} Trie;

static int trie_grow(Trie *t) {
    if (t->count < t->cap)
        return 0;
    Py_ssize_t cap = t->cap ? t->cap * 2 : 256;
    if (cap > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many automaton nodes");
        return -1;
    }
    EdgeList *lists = PyMem_Realloc(t->lists, (size_t)cap * sizeof(EdgeList));
    if (lists == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->lists = lists;
    int32_t *out = PyMem_Realloc(t->out, (size_t)cap * sizeof(int32_t));
    if (out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->out = out;
    t->cap = cap;
    return 0;
}

static int32_t trie_new_node(Trie *t) {
    if (trie_grow(t) < 0)
        return -1;
    t->lists[t->count].items = NULL;
    t->lists[t->count].count = 0;
    t->lists[t->count].cap = 0;
    t->out[t->count] = -1;
    return (int32_t)t->count++;
}

static void trie_free(Trie *t) {
    for (Py_ssize_t i = 0; i < t->count; i++)
        PyMem_Free(t->lists[i].items);
    PyMem_Free(t->lists);
    PyMem_Free(t->out);
}

/* the child of `node` by `ch`, made when missing; -1 on error */
static int32_t trie_child(Trie *t, int32_t node, Py_UCS4 ch) {
    EdgeList *l = &t->lists[node];
    for (int32_t k = 0; k < l->count; k++)
        if (l->items[k].ch == ch)
            return l->items[k].to;
    int32_t child = trie_new_node(t);
    if (child < 0)
        return -1;
    l = &t->lists[node]; /* the lists may have moved */
    if (l->count == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 2;
        Edge *items = PyMem_Realloc(l->items, (size_t)cap * sizeof(Edge));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count].ch = ch;
    l->items[l->count].to = child;
    l->count++;
    return child;
}

static int edge_order(const void *a, const void *b) {
    Py_UCS4 x = ((const Edge *)a)->ch, y = ((const Edge *)b)->ch;
    return (x > y) - (x < y);
}

/* the child of `node` by `ch`, or -1 */
static inline int32_t child_of(const Automaton *a, int32_t node, Py_UCS4 ch) {
    if (node == 0 && ch < 0x10000)
        return a->root[ch] ? a->root[ch] : -1;
    const Node *n = &a->nodes[node];
    const Edge *e = a->edges + n->first;
    int32_t count = n->count;
    if (count <= 8) {
        for (int32_t k = 0; k < count; k++)
            if (e[k].ch == ch)
                return e[k].to;
        return -1;
    }
    int32_t lo = 0, hi = count;
    while (lo < hi) {
        int32_t mid = (lo + hi) >> 1;
        if (e[mid].ch < ch)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < count && e[lo].ch == ch) ? e[lo].to : -1;
}

static void automaton_clear(Automaton *self) {
    PyMem_Free(self->nodes);
    PyMem_Free(self->edges);
    PyMem_Free(self->root);
    PyMem_Free(self->other);
    self->other = NULL;
    self->nodes = NULL;
    self->edges = NULL;
    self->root = NULL;
    Py_CLEAR(self->values);
}

static int automaton_build(Automaton *self, PyObject *pieces_arg, PyObject *values_arg,
                           PyObject *others_arg);

/* Automaton(pieces, values, others): `pieces` a sequence of distinct non-empty str, `values` a
 * sequence of as many objects, `others` of as many truth values; a piece's occurrences are
 * reported with its value, in the flat list, or as (last, value) pairs when it is one of the
 * `others` */
static int automaton_init(Automaton *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"pieces", "values", "others", NULL};
    PyObject *pieces_arg, *values_arg, *others_arg;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:Automaton", kwlist, &pieces_arg,
                                     &values_arg, &others_arg))
        return -1;
    /* once only: a second build (from the Python code the first one calls, or from a garbage
     * collection during a scan) would free what the other is using */
    if (self->building || self->nodes != NULL || self->other != NULL) {
        PyErr_SetString(PyExc_TypeError, "an Automaton is initialised once");
        return -1;
    }
    self->building = 1;
    int done = automaton_build(self, pieces_arg, values_arg, others_arg);
    self->building = 0;
    return done;
}

static int automaton_build(Automaton *self, PyObject *pieces_arg, PyObject *values_arg,
                           PyObject *others_arg) {
    Trie t = {NULL, NULL, 0, 0};
    PyObject *pieces = PySequence_Tuple(pieces_arg);
    if (pieces == NULL)
        return -1;
    PyObject *values = PySequence_Tuple(values_arg);
    if (values == NULL) {
        Py_DECREF(pieces);
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(pieces);
    if (PyTuple_GET_SIZE(values) != n) {
        PyErr_SetString(PyExc_ValueError, "pieces and values differ in length");
        goto fail_tuples;
    }
    if (n > INT32_MAX - 1) {
        PyErr_SetString(PyExc_OverflowError, "too many pieces");
        goto fail_tuples;
    }
    PyObject *others = PySequence_Tuple(others_arg);
    if (others == NULL)
        goto fail_tuples;
    if (PyTuple_GET_SIZE(others) != n) {
        Py_DECREF(others);
        PyErr_SetString(PyExc_ValueError, "pieces and others differ in length");
        goto fail_tuples;
    }
    self->other = PyMem_Calloc((size_t)(n ? n : 1), 1);
    if (self->other == NULL) {
        Py_DECREF(others);
        PyErr_NoMemory();
        goto fail_tuples;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int truth = PyObject_IsTrue(PyTuple_GET_ITEM(others, i));
        if (truth < 0) {
            Py_DECREF(others);
            goto fail_trie;
        }
        self->other[i] = (char)truth;
    }
    Py_DECREF(others);
    if (trie_new_node(&t) < 0)
        goto fail_trie;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *piece = PyTuple_GET_ITEM(pieces, i);
        if (!PyUnicode_Check(piece)) {
            PyErr_Format(PyExc_TypeError, "piece %zd is not a str", i);
            goto fail_trie;
        }
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(piece) < 0)
            goto fail_trie;
#endif
        Py_ssize_t len = PyUnicode_GET_LENGTH(piece);
        if (len == 0) {
            PyErr_Format(PyExc_ValueError, "piece %zd is empty", i);
            goto fail_trie;
        }
        int kind = PyUnicode_KIND(piece);
        const void *data = PyUnicode_DATA(piece);
        int32_t node = 0;
        for (Py_ssize_t k = 0; k < len; k++) {
            node = trie_child(&t, node, PyUnicode_READ(kind, data, k));
            if (node < 0)
                goto fail_trie;
        }
        if (t.out[node] >= 0) {
            PyErr_Format(PyExc_ValueError, "piece %zd is given twice", i);
            goto fail_trie;
        }
        t.out[node] = (int32_t)i;
    }

    /* flatten: edges sorted by code point, node by node */
    Py_ssize_t n_nodes = t.count, n_edges = 0;
    for (Py_ssize_t i = 0; i < n_nodes; i++)
        n_edges += t.lists[i].count;
    self->nodes = PyMem_Calloc((size_t)n_nodes, sizeof(Node));
    self->edges = PyMem_Calloc((size_t)(n_edges ? n_edges : 1), sizeof(Edge));
    self->root = PyMem_Calloc(0x10000, sizeof(int32_t));
    int32_t *queue = PyMem_Calloc((size_t)n_nodes, sizeof(int32_t));
    if (self->nodes == NULL || self->edges == NULL || self->root == NULL || queue == NULL) {
        PyMem_Free(queue);
        PyErr_NoMemory();
        goto fail_trie;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < n_nodes; i++) {
        EdgeList *l = &t.lists[i];
        if (l->count)
            qsort(l->items, (size_t)l->count, sizeof(Edge), edge_order);
        self->nodes[i].first = (int32_t)at;
        self->nodes[i].count = l->count;
        self->nodes[i].out = t.out[i];
        self->nodes[i].fail = 0;
        self->nodes[i].link = -1;
        if (l->count)
            memcpy(self->edges + at, l->items, (size_t)l->count * sizeof(Edge));
        at += l->count;
    }
    trie_free(&t);
    const Node *root = &self->nodes[0];
    for (int32_t k = 0; k < root->count; k++) {
        const Edge *e = &self->edges[root->first + k];
        if (e->ch < 0x10000)
            self->root[e->ch] = e->to;
    }

    /* failure and output links, breadth first */
    Py_ssize_t head = 0, tail = 0;
    for (int32_t k = 0; k < root->count; k++)
        queue[tail++] = self->edges[root->first + k].to;  /* their failure link: the root */
    while (head < tail) {
        int32_t u = queue[head++];
        const Node *nu = &self->nodes[u];
        for (int32_t k = 0; k < nu->count; k++) {
            const Edge *e = &self->edges[nu->first + k];
            int32_t v = e->to, f = nu->fail, to;
            while ((to = child_of(self, f, e->ch)) < 0 && f != 0)
                f = self->nodes[f].fail;
            if (to < 0)
                to = 0;
            self->nodes[v].fail = to;
            self->nodes[v].link = self->nodes[to].out >= 0 ? to : self->nodes[to].link;
            queue[tail++] = v;
        }
    }
    PyMem_Free(queue);
    self->values = values;
    Py_DECREF(pieces);
    return 0;

fail_trie:
    automaton_clear(self);
fail_tuples:
    trie_free(&t);
    Py_DECREF(pieces);
    Py_DECREF(values);
    return -1;
}

/* scan(text) -> (flat, others): `flat` the occurrences of the pieces not among the `others`,
 * last, value, last, value, ...; `others` those of the others, as (last, value) pairs */
static PyObject *automaton_scan(Automaton *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "scan() takes a str");
        return NULL;
    }
    if (self->nodes == NULL || self->values == NULL || self->building) {
        PyErr_SetString(PyExc_RuntimeError, "the automaton was not built");
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return NULL;
#endif
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const Node *nodes = self->nodes;
    const char *other = self->other;
    /* the occurrences as (last, piece) pairs, then lists of the right size */
    Py_ssize_t cap = 1024, n = 0, n_other = 0;
    Py_ssize_t *found = PyMem_Malloc((size_t)cap * 2 * sizeof(Py_ssize_t));
    if (found == NULL)
        return PyErr_NoMemory();
    int32_t state = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        int32_t to;
        while ((to = child_of(self, state, ch)) < 0 && state != 0)
            state = nodes[state].fail;
        state = to < 0 ? 0 : to;
        int32_t s = nodes[state].out >= 0 ? state : nodes[state].link;
        while (s >= 0) {
            if (n == cap) {
                cap *= 2;
                Py_ssize_t *more = PyMem_Realloc(found, (size_t)cap * 2 * sizeof(Py_ssize_t));
                if (more == NULL) {
                    PyMem_Free(found);
                    return PyErr_NoMemory();
                }
                found = more;
            }
            found[2 * n] = i;
            found[2 * n + 1] = nodes[s].out;
            n_other += other[nodes[s].out];
            n++;
            s = nodes[s].link;
        }
    }
    /* making the lists may run a garbage collection, hence Python code: the values are held */
    PyObject *held = self->values;
    Py_INCREF(held);
    PyObject **values = ((PyTupleObject *)held)->ob_item;
    PyObject *flat = PyList_New(2 * (n - n_other));
    PyObject *pairs = PyList_New(n_other);
    if (flat == NULL || pairs == NULL)
        goto fail;
    Py_ssize_t f = 0, p = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *last = PyLong_FromSsize_t(found[2 * k]);
        if (last == NULL)
            goto fail;
        PyObject *value = values[found[2 * k + 1]];
        Py_INCREF(value);
        if (other[found[2 * k + 1]]) {
            PyObject *pair = PyTuple_New(2);
            if (pair == NULL) {
                Py_DECREF(last);
                Py_DECREF(value);
                goto fail;
            }
            PyTuple_SET_ITEM(pair, 0, last);
            PyTuple_SET_ITEM(pair, 1, value);
            PyList_SET_ITEM(pairs, p++, pair);
        } else {
            PyList_SET_ITEM(flat, f++, last);
            PyList_SET_ITEM(flat, f++, value);
        }
    }
    PyMem_Free(found);
    Py_DECREF(held);
    PyObject *result = PyTuple_New(2);
    if (result == NULL) {
        Py_DECREF(flat);
        Py_DECREF(pairs);
        return NULL;
    }
    PyTuple_SET_ITEM(result, 0, flat);
    PyTuple_SET_ITEM(result, 1, pairs);
    return result;

fail:
    /* the slots not yet filled are NULL: a list's deallocation skips them */
    PyMem_Free(found);
    Py_XDECREF(flat);
    Py_XDECREF(pairs);
    Py_DECREF(held);
    return NULL;
}

/* fold(text, table, mark, slow) -> (marked, folded, slow_met) or None: `text` with each code
 * point c replaced by table[c] (a str of one code point, as str.translate would), `folded` the
 * same without the `mark` code points, `slow_met` whether the `slow` code point is in `marked`;
 * None when an entry met is not a str of one code point, or when `text` is ASCII (for which
 * str.translate has a fast path of its own): the caller then translates.  Two passes: the
 * first reads the entries and finds the widest code point, the second writes both strs at
 * their final width. */
static PyObject *scanner_fold(PyObject *Py_UNUSED(module), PyObject *const *args,
                              Py_ssize_t nargs) {
    if (nargs != 4 || !PyUnicode_Check(args[0]) || !PyList_CheckExact(args[1]) ||
        !PyUnicode_Check(args[2]) || !PyUnicode_Check(args[3]) ||
        PyUnicode_GET_LENGTH(args[2]) != 1 || PyUnicode_GET_LENGTH(args[3]) != 1) {
        PyErr_SetString(PyExc_TypeError,
                        "fold(text: str, table: list, mark: str, slow: str), mark and slow one "
                        "code point each");
        return NULL;
    }
    PyObject *text = args[0], *table = args[1];
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return NULL;
#endif
    if (PyUnicode_IS_ASCII(text))
        Py_RETURN_NONE;
    Py_UCS4 mark = PyUnicode_READ_CHAR(args[2], 0), slow = PyUnicode_READ_CHAR(args[3], 0);
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), size = PyList_GET_SIZE(table), kept = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_UCS4 widest = 0, widest_kept = 0;
    int slow_met = 0;
    /* (no Python code runs below: the table cannot change between the passes) */
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i), to = c;
        if ((Py_ssize_t)c < size) {  /* past the table's end: unchanged, as str.translate */
            PyObject *entry = PyList_GET_ITEM(table, c);
            if (!PyUnicode_Check(entry) || PyUnicode_GET_LENGTH(entry) != 1)
                Py_RETURN_NONE;
            to = PyUnicode_READ_CHAR(entry, 0);
        }
        widest = to > widest ? to : widest;
        slow_met |= to == slow;
        if (to != mark) {
            kept++;
            widest_kept = to > widest_kept ? to : widest_kept;
        }
    }
    PyObject *marked = PyUnicode_New(len, widest);
    PyObject *folded = marked == NULL ? NULL : PyUnicode_New(kept, widest_kept);
    if (folded == NULL) {
        Py_XDECREF(marked);
        return NULL;
    }
    int mkind = PyUnicode_KIND(marked), fkind = PyUnicode_KIND(folded);
    void *mdata = PyUnicode_DATA(marked), *fdata = PyUnicode_DATA(folded);
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i), to = c;
        if ((Py_ssize_t)c < size)
            to = PyUnicode_READ_CHAR(PyList_GET_ITEM(table, c), 0);
        PyUnicode_WRITE(mkind, mdata, i, to);
        if (to != mark)
            PyUnicode_WRITE(fkind, fdata, n++, to);
    }
    return Py_BuildValue("(NNO)", marked, folded, slow_met ? Py_True : Py_False);
}

static PyObject *automaton_new(PyTypeObject *type, PyObject *Py_UNUSED(args),
                               PyObject *Py_UNUSED(kwds)) {
    Automaton *self = (Automaton *)type->tp_alloc(type, 0);
    return (PyObject *)self;  /* every field zeroed by tp_alloc */
}

static void automaton_dealloc(Automaton *self) {
    PyObject_GC_UnTrack(self);
    automaton_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int automaton_traverse(Automaton *self, visitproc visit, void *arg) {
    Py_VISIT(self->values);
    return 0;
}

static int automaton_tp_clear(Automaton *self) {
    Py_CLEAR(self->values);
    return 0;
}

static PyMethodDef automaton_methods[] = {
    {"scan", (PyCFunction)automaton_scan, METH_O,
     "scan(text) -> (flat, others): every occurrence of every piece in `text`, in the order "
     "of the index of its last code point, the longest piece first among those ending at one "
     "place: those of the pieces not among the others flat (that index, then the piece's "
     "value), those of the others as (index, value) pairs."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject AutomatonType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "csdsl._scanner.Automaton",
    .tp_basicsize = sizeof(Automaton),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Automaton(pieces, values, others): an Aho-Corasick automaton over code points.",
    .tp_new = automaton_new,
    .tp_init = (initproc)automaton_init,
    .tp_dealloc = (destructor)automaton_dealloc,
    .tp_traverse = (traverseproc)automaton_traverse,
    .tp_clear = (inquiry)automaton_tp_clear,
    .tp_methods = automaton_methods,
};

static PyMethodDef scanner_functions[] = {
    {"fold", (PyCFunction)(void (*)(void))scanner_fold, METH_FASTCALL,
     "fold(text, table, mark, slow) -> (marked, folded, slow_met) or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef scanner_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "csdsl._scanner",
    .m_doc = "The native engine of csdsl.phrase_engines: Aho-Corasick over code points, and "
             "the fold of a text through csdsl.phrases' table.",
    .m_size = -1,
    .m_methods = scanner_functions,
};

PyMODINIT_FUNC PyInit__scanner(void) {
    if (PyType_Ready(&AutomatonType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&scanner_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&AutomatonType);
    if (PyModule_AddObject(m, "Automaton", (PyObject *)&AutomatonType) < 0) {
        Py_DECREF(&AutomatonType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
