"""Containers against torch: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember


def seq(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), nn.Sigmoid())


def test_sequential_indexing_and_repr():
    es, ts = seq(ember), seq(torch)
    assert str(es) == str(ts)
    assert len(es) == 4
    assert isinstance(es[0], ember.nn.Linear) and es[-1] is es[3]
    sub_e, sub_t = es[1:3], ts[1:3]
    assert isinstance(sub_e, ember.nn.Sequential) and str(sub_e) == str(sub_t)
    assert str(es[::-1]) == str(ts[::-1])
    assert [type(m).__name__ for m in es] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    for s in (es, ts):
        with pytest.raises(IndexError, match="index 10 is out of range"):
            s[10]


def test_sequential_mutation_matches_torch():
    for_libs = {}
    for lib in (ember, torch):
        s = seq(lib)
        s.append(lib.nn.Tanh())
        s.insert(1, lib.nn.Identity())
        s.extend([lib.nn.ReLU()])
        del s[2]
        s[0] = lib.nn.Linear(4, 4)
        popped = s.pop(-1)
        for_libs[lib.__name__] = (str(s), type(popped).__name__, list(s._modules))
    assert for_libs["ember"] == for_libs["torch"]


def test_sequential_from_ordered_dict_and_forward():
    od_e = OrderedDict([("fc", ember.nn.Linear(2, 2)), ("act", ember.nn.ReLU())])
    od_t = OrderedDict([("fc", torch.nn.Linear(2, 2)), ("act", torch.nn.ReLU())])
    es, ts = ember.nn.Sequential(od_e), torch.nn.Sequential(od_t)
    assert str(es) == str(ts) and es.fc is od_e["fc"]
    es.load_state_dict({k: ember.tensor(v.numpy()) for k, v in ts.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    np.testing.assert_allclose(es(ember.tensor(x)).detach().numpy(), ts(torch.tensor(x)).detach().numpy(), atol=1e-6)


def test_empty_sequential_is_identity():
    x = ember.ones(2)
    assert ember.nn.Sequential()(x) is x
    assert repr(ember.nn.Sequential()) == repr(torch.nn.Sequential()) == "Sequential()"


def test_module_list():
    def make(lib):
        nn = lib.nn
        return nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.Linear(2, 2)])

    el, tl = make(ember), make(torch)
    assert str(el) == str(tl)
    assert len(el) == 7 and isinstance(el[1:3], ember.nn.ModuleList) and el[-1] is el[6]
    for lib, ml in ((ember, el), (torch, tl)):
        ml.append(lib.nn.Sigmoid())
        ml.insert(0, lib.nn.Identity())
        ml.extend([lib.nn.ReLU()])
        del ml[3]
        ml[1] = lib.nn.Linear(2, 5)
        ml += [lib.nn.Tanh()]
    assert str(el) == str(tl) and list(el._modules) == list(tl._modules)
    assert len(list(el.parameters())) == len(list(tl.parameters()))
    assert repr(ember.nn.ModuleList()) == repr(torch.nn.ModuleList())
    with pytest.raises(NotImplementedError, match=r'Module \[ModuleList\] is missing the required "forward" function'):
        el(ember.ones(1))


def test_module_dict():
    def make(lib):
        return lib.nn.ModuleDict({"a": lib.nn.Linear(2, 2), "b": lib.nn.ReLU()})

    ed, td = make(ember), make(torch)
    assert str(ed) == str(td)
    assert list(ed.keys()) == ["a", "b"] and "a" in ed and len(ed) == 2
    assert [k for k in ed] == ["a", "b"]
    for lib, d in ((ember, ed), (torch, td)):
        d["c"] = lib.nn.Tanh()
        d.update([("d", lib.nn.Sigmoid())])
        d.pop("a")
        del d["b"]
    assert str(ed) == str(td) and list(ed.items())[0][0] == "c"
    assert [type(v).__name__ for v in ed.values()] == ["Tanh", "Sigmoid"]
    ed.clear()
    assert len(ed) == 0


def test_parameter_list_and_dict():
    def make(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(2, 3))])
                self.pd = lib.nn.ParameterDict({"x": lib.nn.Parameter(lib.ones(2))})
                self.one = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(4))])

        return M()

    em, tm = make(ember), make(torch)
    assert str(em) == str(tm)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    for lib, m in ((ember, em), (torch, tm)):
        m.pl.append(lib.ones(3))  # plain tensors become Parameters
        m.pd["y"] = lib.zeros(1)
    assert isinstance(em.pl[2], ember.nn.Parameter) and isinstance(em.pd["y"], ember.nn.Parameter)
    assert str(em) == str(tm)
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert len(em.pl) == 3 and [tuple(p.shape) for p in em.pl] == [(2,), (2, 3), (3,)]
    assert list(em.pd.keys()) == ["x", "y"] and "y" in em.pd
    assert list(em.state_dict()) == list(tm.state_dict())
    em.pd.pop("x")
    assert list(em.pd) == ["y"]
