"""Which packages the wheel holds; everything else about the project is in pyproject.toml.

setuptools finds backprop_cli and all its subpackages (no hand-kept list to forget one in). The example
folder graphs/ sits at the top of the repository, for `backprop gradcheck graphs/*.yaml`, and ships inside
the package as backprop_cli/graphs: pyproject.toml cannot map one folder into a found package, this can.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["backprop_cli", "backprop_cli.*"]), "backprop_cli.graphs"],
    package_dir={"backprop_cli.graphs": "graphs"},
)
