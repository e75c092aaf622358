# Accuracy, FLOPs and latency, data.checkpoint = mobilenetv2, data.labelled = 0.1
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1200,560 font "sans,10"
set encoding utf8
$curve0 << EOD
16.17934824657116 79.05 0.24623831044895886 7.440800827425178
22.905656648846858 84.45 2.676587085463972 5.873506647169414
37.059596432951295 90.8 6.125950831221877 3.9729330840153056
44.577837660752145 92.0 7.48413539972045 3.2433019532600746
55.33322802345511 92.75 9.032704980331886 3.3606127792325395
64.568520256343 92.8 9.547395420779889 3.26165793894791
81.83864051849811 92.85 8.393637930062432 3.247900675465761
100.03272031449019 92.85 5.393021756528563 3.247900675465761
EOD
$curve1 << EOD
15.853703396532973 89.15 0.03257789916248987 6.455961216218661
16.150545739213808 89.65 0.2764080333699587 6.277344598820594
19.922291669228787 92.0 2.7662646471709675 4.5274551203694
22.83568139356452 93.45 4.680128349333746 3.853974957397976
28.15245744688906 94.9 7.243831617551282 2.544856987524689
33.13030285199075 95.8 8.950144498840828 2.219016162198044
45.80641249429896 95.8 11.058192849397718 2.397602027610182
69.29328603627035 94.75 11.904244197038926 2.86266929355441
EOD
$full0 << EOD
100.0 92.85 0 3.247900675465761
EOD
$full1 << EOD
100.0 95.25 0 2.9119019533427775
EOD
$ms0 << EOD
-0.12 0.25229999999999997 0.042100237886065955
0.88 3.1664000000000003 0.6075047945355153
1.88 0.7837 0.11391136262897071
2.88 1.4315000000000002 0.28802851855695744
3.88 2.4532999999999996 0.41715852584467367
EOD
$ms1 << EOD
0.12 0.2264 0.04531873669376441
1.12 3.2489 0.6309337470051413
2.12 0.8253999999999999 0.13720736913234235
3.12 1.5379 0.4821596881335588
4.12 2.4415 0.37018308726313215
EOD
set multiplot layout 1,2 title "Accuracy, FLOPs and latency, data.checkpoint = mobilenetv2, data.labelled = 0.1"
set grid
set key outside bottom center horizontal
set bmargin 7
set title "accuracy against FLOPs over confidence thresholds"
set xlabel "mean FLOPs per sample (% of the full network)"
set ylabel "test accuracy (%)"
set xrange [0:105]
set yrange [*:100]
plot $curve0 using 1:2:3:4 with xyerrorlines linewidth 1.5 pointtype 6 title "global-exits", \
     $curve1 using 1:2:3:4 with xyerrorlines linewidth 1.5 pointtype 7 title "personalised-exits", \
     $full0 using 1:2:3:4 with xyerrorbars pointtype 5 pointsize 1.8 linewidth 2 title "global-full", \
     $full1 using 1:2:3:4 with xyerrorbars pointtype 9 pointsize 1.8 linewidth 2 title "fine-tuned-full"
set title "measured batch-1 latency per classifier (median of timed runs)"
set xlabel "classifier"
set ylabel "latency (ms)"
set xtics ("block2" 0, "final" 1, "block5" 2, "block10" 3, "block16" 4)
set xrange [-0.5:4.5]
set yrange [0:*]
plot $ms0 using 1:2:3 with yerrorbars pointtype 5 pointsize 1.2 linewidth 2 title "global", \
     $ms1 using 1:2:3 with yerrorbars pointtype 7 pointsize 1.2 linewidth 2 title "personalised"
unset multiplot
