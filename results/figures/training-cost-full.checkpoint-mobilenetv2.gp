# Training cost against accuracy (full scale), data.checkpoint = mobilenetv2
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1100,520 font "sans,10"
set encoding utf8
$flops0 << EOD
133.43010560000016 97.48333333333333 4.4424395324138016e-14 0.8424527493787418
EOD
$wall0 << EOD
2.656058 97.48333333333333 0.06618130329400763 0.8424527493787418
EOD
$flops1 << EOD
1084.205472000001 97.2 2.369301083954027e-13 0.922627853411955
EOD
$wall1 << EOD
34.51169460000001 97.2 4.325450958778718 0.922627853411955
EOD
set multiplot layout 1,2 title "Training cost against accuracy (full scale), data.checkpoint = mobilenetv2"
set grid
set ylabel "test accuracy (%)"
set yrange [*:100]
set key outside bottom center horizontal
set bmargin 7
set logscale x
set offsets graph 0.15, graph 0.15, graph 0.15, graph 0.15
set title "training FLOPs per user"
set xlabel "training cost (GFLOPs per user, log scale)"
plot $flops0 using 1:2:3:4 with xyerrorbars pointtype 7 pointsize 1.5 linewidth 2 title "exit personalisation", \
     $flops1 using 1:2:3:4 with xyerrorbars pointtype 5 pointsize 1.5 linewidth 2 title "whole-network fine-tuning"
set title "measured wall time per user"
set xlabel "training wall time (s per user, log scale)"
plot $wall0 using 1:2:3:4 with xyerrorbars pointtype 7 pointsize 1.5 linewidth 2 title "exit personalisation", \
     $wall1 using 1:2:3:4 with xyerrorbars pointtype 5 pointsize 1.5 linewidth 2 title "whole-network fine-tuning"
unset multiplot
