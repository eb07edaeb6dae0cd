"""What one chain will be: its mine, how far it goes, and the optional steps it takes."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from ledger.demo.cast import CLUSTERS, COUNTRY, MINES, Cluster, Mine

# How far a chain goes before export; the deck is dealt in shuffled rounds so that every
# run of twenty chains holds exactly these proportions (and chains=200 makes > 2,000 lots).
ENDS = ("concentrate", "oxide", "metal", "powder", "magnet")
DECK = ("magnet",) * 11 + ("powder",) + ("metal",) * 3 + ("oxide",) * 3 + ("concentrate",) * 2
# How often each mine starts a chain (China's mines dominate supply).
MINE_WEIGHTS: Mapping[str, int] = MappingProxyType(
    {
        "bayan-obo-mine": 4, "mountain-pass-mine": 2, "mount-weld-mine": 2,
        "chavara-sands-mine": 1, "buena-sands-mine": 1, "longnan-clay-mine": 2,
        "xunwu-clay-mine": 2, "pangwa-clay-mine": 1, "bhamo-clay-mine": 1,
    }
)  # fmt: skip
# Which magnets, metals and exported oxides a feed of each REE profile can make.
MAGNETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "bastnaesite": ("ndfeb",),
        "monazite": ("ndfeb", "ndfeb_dy", "smco"),
        "clay_light": ("ndfeb_dy", "smco", "ndfeb"),
        "clay_heavy": ("ndfeb_dy",),
    }
)
METALS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "bastnaesite": ("ndpr",),
        "monazite": ("ndpr", "sm"),
        "clay_light": ("ndpr", "dy", "sm"),
        "clay_heavy": ("dy",),
    }
)
OXIDES: Mapping[str, tuple[tuple[str, ...], ...]] = MappingProxyType(
    {
        "bastnaesite": (("ndpr",), ("la",)),
        "monazite": (("ndpr",), ("la",)),
        "clay_light": (("ndpr",), ("la",)),
        "clay_heavy": (("dy", "tb"), ("y",)),
    }
)
DESTINATIONS = ("DE", "US", "JP", "KR", "FR", "GB", "NL", "IT", "VN", "MX", "CN")


@dataclass(frozen=True)
class Plan:
    chain: int
    mine: Mine
    end: str  # one of ENDS
    magnet: str  # ndfeb | ndfeb_dy | smco for powder and magnet ends, else ""
    metal: str  # the metal a metal end exports, else ""
    oxides: tuple[str, ...]  # the oxide cuts an oxide end exports
    blend: bool  # two ore lots, two concentrates, blended at the mine
    split: bool  # the exported lot leaves in two consignments
    concentrator: bool  # the ore is beneficiated by a separate plant
    via_trader: bool  # the concentrate passes through a trader's hands
    arrival_assay: bool  # a lab assays the concentrate when it arrives
    export_assay: bool  # a lab assays the goods at the exporter
    declared_composition: bool  # the declaration states a composition
    destination: str

    @property
    def cluster(self) -> Cluster:
        return CLUSTERS[self.mine.cluster]

    @property
    def legs(self) -> tuple[str, ...]:
        """The shipments the chain makes, named by what they carry."""
        legs: tuple[str, ...] = ("ore",) if self.concentrator else ()
        legs += ("concentrate",)
        if self.end in ("metal", "powder", "magnet"):
            legs += ("oxide",)
        if self.end in ("powder", "magnet"):
            legs += ("metal",)
        return legs + (("product",) if self.end != "concentrate" else ())

    @property
    def extra_cuts(self) -> tuple[str, ...]:
        """Single-oxide cuts separation must make beyond the standard ones."""
        wanted = {"ndfeb_dy": "Dy", "smco": "Sm"}.get(self.magnet, "")
        wanted += {"dy": "Dy", "sm": "Sm"}.get(self.metal, "")
        return (wanted,) if wanted else ()

    @property
    def exporter(self) -> str:
        cluster = self.cluster
        return {
            "concentrate": self.mine.concentrate_exporter,
            "oxide": cluster.oxide_exporter,
            "metal": cluster.metal_exporter,
        }.get(self.end, cluster.magnet_exporter)


def draw(
    rng: random.Random,
    chain: int,
    end: str,
    *,
    mines: Sequence[Mine] = MINES,
    magnets: Sequence[str] = ("ndfeb", "ndfeb_dy", "smco"),
) -> Plan:
    """A plan for chain `chain` ending at `end`, from one of `mines`, its other choices drawn
    from `rng`; a magnet or powder end makes one of `magnets`."""
    if end in ("powder", "magnet"):
        mines = [mine for mine in mines if _magnets(mine, magnets)]
    mine = rng.choices(mines, weights=[MINE_WEIGHTS[mine.id] for mine in mines])[0]
    plan = Plan(
        chain=chain,
        mine=mine,
        end=end,
        magnet=rng.choice(_magnets(mine, magnets)) if end in ("powder", "magnet") else "",
        metal=rng.choice(METALS[mine.profile]) if end == "metal" else "",
        oxides=rng.choice(OXIDES[mine.profile]) if end == "oxide" else (),
        blend=rng.random() < 0.25,
        split=rng.random() < 0.2,
        concentrator=mine.concentrator is not None and rng.random() < 0.6,
        via_trader=mine.trader_required or (mine.trader is not None and rng.random() < 0.4),
        arrival_assay=rng.random() < 0.25,
        export_assay=rng.random() < 0.4,
        declared_composition=rng.random() < 0.5,
        destination="",
    )
    return with_destination(rng, plan)


def _magnets(mine: Mine, allowed: Sequence[str]) -> list[str]:
    """The magnets of `allowed` that `mine`'s feed and its cluster's makers can make."""
    has_smco = CLUSTERS[mine.cluster].smco is not None
    return [
        magnet
        for magnet in MAGNETS[mine.profile]
        if magnet in allowed and (magnet != "smco" or has_smco)
    ]


def with_destination(rng: random.Random, plan: Plan) -> Plan:
    """`plan` with a destination abroad for its exporter (the mines of Myanmar sell to China)."""
    home = COUNTRY[plan.exporter]
    if plan.end == "concentrate" and home in ("MM", "US"):
        return replace(plan, destination="CN")
    return replace(plan, destination=rng.choice([c for c in DESTINATIONS if c != home]))
