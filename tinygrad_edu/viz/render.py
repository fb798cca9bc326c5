"""The object ``draw_graph`` returns: DOT source always, pictures when graphviz's ``dot`` exists.

``to_dot()`` and saving ``.dot``/``.gv`` need only the ``graphviz`` Python package. Rendering
(``.svg``, ``.png``, ``.pdf``, the ``.html`` explorer page, inline display in Jupyter) runs
the ``dot`` program; when it is missing you get :class:`GraphvizNotFoundError` saying how to
install it, and a notebook shows the DOT source as text instead of failing.

>>> import graphviz
>>> d = GraphDrawing(graphviz.Digraph())
>>> d.to_dot().strip()
'digraph {\\n}'
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import graphviz

INSTALL_HINT = (
    "Install graphviz (the program, not only the Python package): "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz`, or see https://graphviz.org/download/. "
    "Without it, to_dot() and save('graph.dot') still work."
)

#: File extensions ``save`` understands, and the graphviz format each one means.
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot",
           ".html": "html", ".htm": "html"}


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, so that a
    failure never leaves a half-written file (and an existing one stays as it was)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # as a plain open() would (mkstemp makes it 0600)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _format_of(suffix: str) -> str | None:
    """The format a file extension names: ours first, then any output format of graphviz."""
    ext = suffix.lower()
    return FORMATS.get(ext) or (ext[1:] if ext[1:] in graphviz.FORMATS else None)


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is needed to render the graph and was not found on PATH."""


class GraphDrawing:
    """A drawn compute graph: wraps a :class:`graphviz.Digraph` (``.digraph``).

    Displays inline as SVG in Jupyter; ``save(path)`` picks the format from the extension
    (``graph.html`` is the explorer page, see :meth:`explorer`); ``to_dot()`` gives the DOT
    source. ``num_nodes`` is how many nodes are drawn, ``total_nodes`` how many the graph
    has, ``collapsed`` what was done to fit ``max_nodes``. A drawing made by ``draw_graph``
    keeps the graph it drew (and so its tensors) alive, for the explorer.

    It also behaves like the Digraph it wraps, so code written for torchviz's ``make_dot``
    keeps working: ``render()``, ``view()`` (missing ``dot`` raises
    :class:`GraphvizNotFoundError`), ``format``, ``engine``, and every other public attribute
    (``attr``, ``node``, ``edge``, ``body``, ...) are the Digraph's.

    >>> d = GraphDrawing(graphviz.Digraph())
    >>> d.node("a", "a box")
    >>> d.format = "png"
    >>> d.digraph.format, "a box" in d.source
    ('png', True)
    """

    def __init__(
        self,
        digraph: graphviz.Digraph,
        *,
        total_nodes: int | None = None,
        num_nodes: int | None = None,
        collapsed: tuple[str, ...] = (),
        node_ids: dict[int, str] | None = None,
        layout: Any = None,
    ) -> None:
        self.digraph = digraph
        self._layout = layout  # a viz.graph.Layout: what draw_graph drew, to lay it out again
        self.num_nodes = num_nodes
        self.total_nodes = total_nodes
        self.collapsed = collapsed
        self._node_ids = node_ids or {}
        self._svg: tuple[str, str] | None = None  # (source, its SVG)

    # ------------------------------------------------------------------ the Digraph's API
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "digraph":  # also guards against recursion in copy
            raise AttributeError(name)
        return getattr(self.digraph, name)

    @property
    def format(self) -> str:
        return self.digraph.format

    @format.setter
    def format(self, value: str) -> None:
        self.digraph.format = value

    @property
    def engine(self) -> str:
        return self.digraph.engine

    @engine.setter
    def engine(self, value: str) -> None:
        self.digraph.engine = value

    def render(self, filename: Any = None, directory: Any = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, **kwargs: Any) -> str:
        """:meth:`graphviz.Digraph.render` (same arguments and result), with the install hint
        when ``dot`` is missing, and atomic: ``dot`` writes into a temporary folder beside
        the result, and the files are moved into place only once complete, so a failed
        render leaves no half-written file (and an older one stays as it was)."""
        if kwargs.get("outfile") is not None or kwargs.get("renderer") is not None:
            return self._run("render the graph", self.digraph.render, (filename,),
                             {"directory": directory, "view": view, "cleanup": cleanup,
                              "format": format, **kwargs})
        quiet_view = kwargs.pop("quiet_view", False)
        d = self.digraph
        source = Path(d.directory if directory is None else directory,
                      d.filename if filename is None else filename)
        result = Path(f"{source}.{format or d.format}")
        if kwargs.pop("raise_if_result_exists", False) and result.exists():
            raise graphviz.FileExistsError(f"output file exists: {os.fspath(result)!r}")
        result.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{result.name}.", dir=result.parent)
        try:
            made = self._run("render the graph", d.render, (source.name,),
                             {"directory": tmp, "cleanup": cleanup, "format": format, **kwargs})
            os.replace(made, result)
            if not cleanup:
                os.replace(Path(tmp, source.name), source)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if view or quiet_view:
            graphviz.view(result, quiet=quiet_view)
        return os.fspath(result)

    def view(self, filename: Any = None, directory: Any = None, cleanup: bool = False,
             quiet: bool = False, quiet_view: bool = False) -> str:
        """:meth:`graphviz.Digraph.view`: :meth:`render` and open the result."""
        return self.render(filename, directory, view=True, cleanup=cleanup, quiet=quiet,
                           quiet_view=quiet_view)

    @staticmethod
    def _run(what: str, fn: Any, args: tuple, kwargs: dict) -> Any:
        try:
            return fn(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFoundError(
                f"cannot {what}: graphviz's `dot` program was not found on PATH. "
                f"{INSTALL_HINT}"
            ) from None

    # ------------------------------------------------------------------ source
    @property
    def source(self) -> str:
        return self.digraph.source

    def to_dot(self) -> str:
        """The DOT source (no ``dot`` program needed)."""
        return self.digraph.source

    def node_id(self, tensor: Any) -> str:
        """The DOT id of the node that draws ``tensor`` (its op for a computed tensor; the box
        that contains it once collapsed). ``KeyError`` if it is not drawn."""
        return self._node_ids[id(tensor)]

    # ------------------------------------------------------------------ rendering
    def pipe(self, format: str = "svg", **kwargs: Any) -> bytes:
        """Render with graphviz and return the bytes (``svg``, ``png``, ``pdf``, ...); other
        keywords go to :meth:`graphviz.Digraph.pipe`."""
        return self._run(f"render the graph as {format}", self.digraph.pipe, (),
                         {"format": format, **kwargs})

    def svg(self) -> str:
        """The picture as SVG text (rendered once per version of the source, then cached)."""
        source = self.digraph.source
        if self._svg is None or self._svg[0] != source:
            self._svg = (source, self.pipe("svg").decode("utf-8"))
        return self._svg[1]

    def explorer(self, title: str | None = None) -> Any:
        """The explorer page of this graph: backprop step by step, offline, in a browser
        (see :class:`tinygrad_edu.viz.explorer.Explorer`). Shows inline in Jupyter."""
        from .explorer import Explorer

        if self._layout is None:
            raise ValueError("explorer(): this drawing was not made by draw_graph, so it has "
                             "no graph to step through; draw it with draw_graph(output, ...)")
        return Explorer(self, title)

    def save(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the graph to ``path``; the format comes from the extension (``.svg``,
        ``.png``, ``.pdf``, ``.dot``/``.gv``, ``.html`` for the explorer page, or any other
        format of graphviz's such as ``.jpg``) unless ``format`` is given. Missing folders are
        made, as graphviz's ``render`` does. Returns the path; a failed save leaves no file
        behind."""
        path = Path(path)
        fmt = format or _format_of(path.suffix)
        if fmt is None:
            raise ValueError(
                f"save({str(path)!r}): cannot tell the format from the extension "
                f"{path.suffix!r}; use one of {', '.join(FORMATS)} or pass format="
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt in ("dot", "gv"):
            data = self.to_dot().encode("utf-8")
        elif fmt == "svg":
            data = self.svg().encode("utf-8")
        elif fmt == "html":
            data = self.explorer().html().encode("utf-8")
        else:
            data = self.pipe(fmt)
        write_atomic(path, data)
        return path

    # ------------------------------------------------------------------ Jupyter
    def _repr_svg_(self) -> str | None:
        """SVG for Jupyter; ``None`` without ``dot`` (then ``_repr_mimebundle_``'s text shows)."""
        try:
            return self.svg()
        except GraphvizNotFoundError:
            return None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except GraphvizNotFoundError as e:
            return {"text/plain": f"{e}\n\nThe graph in DOT format:\n{self.to_dot()}"}

    def __repr__(self) -> str:
        extra = f" of {self.total_nodes}" if self.total_nodes not in (None, self.num_nodes) else ""
        return f"<GraphDrawing: {self.num_nodes} nodes{extra}; .save(path), .to_dot()>"
