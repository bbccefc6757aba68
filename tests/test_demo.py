from ember import demo


def test_demo_learns_the_builtin_digits(capsys):
    accuracy = demo.main(epochs=10)
    assert accuracy > 0.9
    assert "test accuracy" in capsys.readouterr().out
