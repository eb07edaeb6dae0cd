"""Every threshold the consistency rules use, in one configuration object (docs/rules.md)."""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from ledger.lots.composition import RARE_EARTHS
from ledger.lots.domain import (
    CONTROL_LISTS,
    CONTROLLED_ANN18,
    CONTROLLED_ANN57,
    DEPOSIT_RATIOS,
    EXTRACT_MAKES,
    GENERIC_TERMS,
    HS_BY_PRODUCT,
    LINEAGE_HIGH_VALUE,
    MAGNET_FAMILIES,
    MASS_CONSERVING,
    NDFEB_TERMS,
    NON_RE_TERMS,
    PROCESS_MAKES,
    PROCESS_TAKES,
    PRODUCT_RE_PPM,
    QUOTA_COUNTRIES,
    RE_BEARING_HS,
    RE_TERMS,
    RECOVERY_ELEMENTS,
    RECOVERY_FLOORS,
    SEVERITY,
    SEVERITY_LEVELS,
    SMCO_TERMS,
)
from ledger.lots.words import Terms, terms


@dataclass(frozen=True)
class Tolerances:
    """The thresholds of every rule, with defaults that pass honest data and catch fraud.

    Relative tolerances are fractions (0.05 = 5 %); an "absolute floor" is added to the
    relative allowance, so that tiny amounts, where assays lose precision, do not flag.
    """

    # Mass balance of transforms (OUTPUT_EXCEEDS_INPUT).
    element_tolerance: float = 0.10  # element out may exceed in by this: 3.5σ of two assays
    # plus this many ppm of the smaller of mass in and mass out: no fixed grams, which would
    # be large next to a small lot (50 ppm of a tonne is 50 g, of a 1 g lot 50 µg)
    element_floor_ppm: float = 50.0
    mass_tolerance: float = 0.01  # total mass out over in, mass-conserving processes (scales)
    mass_conserving: frozenset[str] = MASS_CONSERVING  # processes whose total mass is checked

    # Recovery (YIELD_BELOW_FLOOR): flag when recovery < floor × (1 − recovery_margin).
    # The floor of each process (China 2016 rules); separation's is the light-feed one.
    recovery_floors: Mapping[str, float] = field(default_factory=lambda: RECOVERY_FLOORS)
    recovery_margin: float = 0.05  # "far below": 5 % under the floor, for assay noise
    low_grade_floor: float = 0.65  # beneficiation of low-grade ore (China 2016 rules)
    low_grade_treo_ppm: int = 20_000  # ore below 2 % TREO is low grade
    ionic_clay_floor: float = 0.94  # separation of ionic-clay (heavy) feed
    heavy_feed_share: float = 0.10  # a feed this heavy (Gd..Lu+Y of REY) is ionic-clay feed
    # Per-element recovery: each of these and the controlled elements on its own (at
    # alloying every rare earth), against the process floor less element_recovery_margin;
    # judged when the inputs hold at least element_recovery_min_ppm of their mass of it.
    recovery_elements: frozenset[str] = RECOVERY_ELEMENTS
    element_recovery_margin: float = 0.10  # one element's recovery: two assays' noise, 3.5σ
    element_recovery_min_ppm: int = 100  # less of an element than this is assay noise
    # Not a setting, derived in __post_init__ (the rule reads it per transform): the rare
    # earths judged one by one outside alloying, the controlled ones and recovery_elements.
    recovery_judged: frozenset[str] = field(init=False, repr=False, compare=False)

    # Lineage balance (LINEAGE_IMBALANCE): a lot's claim of a rare earth vs what its ancestry
    # back to the mines supplied (at most) and guarantees (at least), all steps together.
    lineage_tolerance: float = 0.10  # one total per lineage: two assays' noise
    lineage_floor_ppm: int = 50  # plus this many ppm of the lot's own mass (no fixed grams)
    # Not a setting, derived in __post_init__ (the rule reads it per lot): the rare earths
    # held to their guaranteed lower bound, the controlled ones and LINEAGE_HIGH_VALUE.
    lineage_held: tuple[str, ...] = field(init=False, repr=False, compare=False)

    # Split and blend (MIX_INCONSISTENT): output vs mass-weighted inputs, per element.
    mix_tolerance: float = 0.10  # relative to the expected ppm (a reassayed output)
    mix_floor_ppm: int = 200  # plus this many ppm

    # Assay vs the lot's recorded composition (COMPOSITION_MISMATCH).
    assay_tolerance: float = 0.10  # relative to the recorded ppm: two labs, two samples
    assay_floor_ppm: int = 200  # plus this many ppm
    assay_min_ppm: int = 1_000  # compare only elements at or above this in either

    # Declared composition vs the mass-weighted record (COMPOSITION_MISMATCH).
    declared_tolerance: float = 0.10  # relative to the recorded ppm
    declared_floor_ppm: int = 500  # plus this many ppm
    declared_min_ppm: int = 5_000  # compare only elements at or above this in either
    # A controlled element some lot holds at or above controlled_threshold_ppm is compared
    # whatever its size, with this floor in place of declared_floor_ppm.
    declared_controlled_floor_ppm: int = 50
    magnet_family_min_ppm: int = 100_000  # Nd+Pr or Sm this high makes a lot NdFeB or SmCo
    ndfeb_terms: tuple[str, ...] = NDFEB_TERMS  # description words naming NdFeB
    smco_terms: tuple[str, ...] = SMCO_TERMS  # description words naming SmCo

    # Origin (ORIGIN_MISMATCH), total variation distance between REY fingerprints.
    origin_distance: float = 0.15  # vs the declared deposit's reference profile
    pattern_distance: float = 0.10  # a concentrate or compound vs its ore inputs
    pattern_min_rey_ppm: int = 100  # too little REY to have a pattern: not checked
    # profile -> ratio -> (lowest, highest) (DOMAIN §3, §6, with margins): ratios that tell
    # deposits apart where the distance, dominated by La and Ce, does not.
    deposit_ratios: Mapping[str, Mapping[str, tuple[float, float]]] = field(
        default_factory=lambda: DEPOSIT_RATIOS
    )

    # Process grammar (PROCESS_INCONSISTENT): what each process takes and makes (DOMAIN §6).
    process_takes: Mapping[str, frozenset[str]] = field(default_factory=lambda: PROCESS_TAKES)
    process_makes: Mapping[str, frozenset[str]] = field(default_factory=lambda: PROCESS_MAKES)
    extract_makes: frozenset[str] = EXTRACT_MAKES  # what comes out of the ground
    # product -> (lowest, highest) rare earths, ppm of the lot (DOMAIN §6, with margins).
    product_re_ppm: Mapping[str, tuple[int, int]] = field(default_factory=lambda: PRODUCT_RE_PPM)
    # alloy, magnet powder and magnet are one of these families, each bounds in ppm.
    magnet_families: Mapping[str, Mapping[str, tuple[int, int]]] = field(
        default_factory=lambda: MAGNET_FAMILIES
    )

    # Masses in custody.
    ship_tolerance: float = 0.005  # shipped mass vs the lot's recorded mass, relative
    ship_floor_g: int = 100  # plus this many grams
    receipt_tolerance: float = 0.01  # weighed at receipt vs shipped: scales, moisture
    receipt_floor_g: int = 100  # plus this many grams
    declared_mass_tolerance: float = 0.005  # declared vs recorded mass, relative
    declared_mass_floor_g: int = 100  # plus this many grams,
    declared_mass_floor_share: float = 0.10  # but never more than this share of the record

    # Time (TIME_INCONSISTENT).
    time_slack_s: int = 300  # clocks drift: the ledger itself accepts 5 minutes ahead
    time_major_s: int = 86_400  # a gap longer than a day is medium, not low

    # Customs (CONTROLLED_WITHOUT_LICENCE, HS_CODE_MISMATCH).
    controlled_ann18: frozenset[str] = CONTROLLED_ANN18  # MOFCOM Ann. 18 (2025)
    controlled_ann57: frozenset[str] = CONTROLLED_ANN57  # MOFCOM Ann. 57, force suspended
    include_ann57: bool = False  # whether Ann. 57's elements are controlled too
    # exporter's country -> its controlled elements (DESIGN §9.1); Ann. 57 extends CN's.
    control_lists: Mapping[str, frozenset[str]] = field(default_factory=lambda: CONTROL_LISTS)
    ann57_countries: frozenset[str] = frozenset({"CN"})  # whose list Ann. 57 extends
    quota_countries: frozenset[str] = QUOTA_COUNTRIES  # QUOTA_EXCEEDED: mine's or site's
    controlled_threshold_ppm: int = 1_000  # 0.1 % by mass of a lot (DOMAIN §4)
    re_bearing_ppm: int = 10_000  # 1 % rare earths makes material rare-earth-bearing
    re_bearing_hs: tuple[str, ...] = RE_BEARING_HS  # HS prefixes that may carry it
    # product -> the 6-digit HS codes that fit it (DOMAIN §1).
    hs_by_product: Mapping[str, frozenset[str]] = field(default_factory=lambda: HS_BY_PRODUCT)
    ferroalloy_max_re_ppm: int = 400_000  # 7202.99 ferro-alloy: NdFeB holds ≤ ~35 % RE
    non_re_terms: tuple[str, ...] = NON_RE_TERMS  # description words for non-RE goods
    re_terms: tuple[str, ...] = RE_TERMS  # description words for RE goods
    generic_terms: tuple[str, ...] = GENERIC_TERMS  # description words for any goods

    severity: Mapping[str, str] = field(default_factory=lambda: SEVERITY)  # code -> severity

    # The description term lists above, each term tokenized once (__post_init__): a rule
    # looks up a description's words in them (ledger/lots/rules/wording.py).
    non_re_words: Terms = field(init=False, repr=False, compare=False)
    re_words: Terms = field(init=False, repr=False, compare=False)
    generic_words: Terms = field(init=False, repr=False, compare=False)
    ndfeb_words: Terms = field(init=False, repr=False, compare=False)
    smco_words: Terms = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        held = (self.controlled | LINEAGE_HIGH_VALUE) & RARE_EARTHS
        object.__setattr__(self, "lineage_held", tuple(sorted(held)))
        judged = (self.controlled | self.recovery_elements) & RARE_EARTHS
        object.__setattr__(self, "recovery_judged", judged)
        for name in ("non_re", "re", "generic", "ndfeb", "smco"):
            object.__setattr__(self, f"{name}_words", terms(getattr(self, f"{name}_terms")))
        # A configuration error must fail at start-up, not turn every rule silent.
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"Tolerances.{item.name} must not be negative, got {value}")
        if not 0 <= self.recovery_margin < 1:
            raise ValueError("Tolerances.recovery_margin must be in [0, 1)")
        if not 0 <= self.element_recovery_margin < 1:
            raise ValueError("Tolerances.element_recovery_margin must be in [0, 1)")
        backwards = [name for name, (low, high) in self.product_re_ppm.items() if low > high]
        if backwards:
            raise ValueError(f"Tolerances.product_re_ppm: {backwards} have low > high")
        wrong = {
            code: level for code, level in self.severity.items() if level not in SEVERITY_LEVELS
        }
        if wrong:
            raise ValueError(f"Tolerances.severity: {wrong} is not low, medium or high")

    @property
    def controlled(self) -> frozenset[str]:
        """The elements under export control with the announcements in force."""
        extra = self.controlled_ann57 if self.include_ann57 else frozenset()
        return self.controlled_ann18 | extra

    def controlled_for(self, country: str | None) -> frozenset[str]:
        """The elements controlled for an exporter of `country` (DESIGN §9.1); None: the
        exporter is not known (a check that writes nothing), China's list with Ann. 57 as set."""
        if country is None:
            return self.controlled
        found = self.control_lists.get(country, frozenset())
        if self.include_ann57 and country in self.ann57_countries:
            return found | self.controlled_ann57
        return found
